-- Two-factor login: the last TOTP time step a user logged in with (so a code cannot be used
-- twice) and sessions that still wait for the second factor.

ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0 CHECK (mfa_pending IN (0, 1));
