//! First-run and per-run credentials: the initial administrator, and the token the local CLI
//! uses to reach this server.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use mamori_store::{ControlStore, NewToken, NewUser, Role, TokenKind, password, secret};

/// Name prefix of the tokens `mamori up` creates for the CLI on the same machine.
const LOCAL_TOKEN_NAME: &str = "local CLI of mamori up";

/// Creates the `admin` account when there is no account at all, with a random password
/// written to a file only its owner can read (never to the logs).
pub fn initial_admin(store: &dyn ControlStore, data_dir: &Path) -> anyhow::Result<Option<std::path::PathBuf>> {
    if store.count_users()? > 0 {
        return Ok(None);
    }
    let pw = secret::new_secret("");
    store.create_user(NewUser {
        username: "admin".into(),
        display_name: "初期管理者 (initial administrator)".into(),
        role: Role::PrefectureAdmin,
        tenants: vec![],
        password_hash: password::hash_password(&pw),
        totp_secret: None,
    })?;
    let path = data_dir.join("initial-admin-password");
    write_private(&path, &format!("{pw}\n"))?;
    Ok(Some(path))
}

/// Revokes the tokens earlier runs left and creates a fresh ingestion token for `mamori logs
/// import` on this machine, stored in `run/` with owner-only permissions.
pub fn local_token(store: &dyn ControlStore, file: &Path) -> anyhow::Result<String> {
    for t in store.tokens()? {
        if t.name.starts_with(LOCAL_TOKEN_NAME) && !t.revoked {
            store.revoke_token(&t.id)?;
        }
    }
    let plain = secret::new_secret("mmr_");
    let token = store.create_token(NewToken {
        name: format!("{LOCAL_TOKEN_NAME} (pid {})", std::process::id()),
        kind: TokenKind::Ingest { tenant: None },
        token_hash: secret::hash_secret(&plain),
        expires_at: None,
    })?;
    write_private(file, &plain)?;
    Ok(token.id)
}

pub fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}
