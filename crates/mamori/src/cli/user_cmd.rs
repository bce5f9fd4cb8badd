//! `mamori user add | reset-2fa | list` and `mamori token create | list | revoke`.

use std::io::Read;
use std::process::ExitCode;

use clap::Subcommand;
use mamori_store::{NewAuditEntry, NewToken, NewUser, Role, TokenKind, UserUpdate, password, secret};

use super::ConfigArg;
use super::context::Context;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an operator account.
    Add {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        username: String,
        /// soc_analyst, prefecture_admin, municipal_admin or auditor.
        #[arg(long)]
        role: String,
        /// Tenant the account belongs to (municipal_admin); repeat for several.
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn off a user's two-factor login (a lost authenticator app): the user enrols again
    /// at the next console login. Ends the user's sessions.
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        username: String,
    },
    /// List operator accounts.
    List {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; the secret is printed once and only its hash is kept.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// A name saying what the token is for (e.g. "nxlog at midori AD").
        #[arg(long)]
        name: String,
        /// Act as this user through the API.
        #[arg(long, conflicts_with = "ingest")]
        user: Option<String>,
        /// Only send logs (POST /api/v1/ingest).
        #[arg(long)]
        ingest: bool,
        /// With --ingest: every event is attributed to this tenant.
        #[arg(long, requires = "ingest")]
        tenant: Option<String>,
        /// Days until the token expires (never by default).
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// List tokens (without secrets).
    List {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        config: ConfigArg,
        id: String,
    },
}

pub fn run_user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add { config, username, role, tenants, display_name, password_stdin } => {
            let ctx = Context::load(&config.config)?;
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let service = ctx.config_service()?;
            let (_, managed) = ctx.current_managed(&service)?;
            for t in &tenants {
                if managed.tenant(t).is_none() {
                    anyhow::bail!("--tenant '{t}' is not a tenant (see mamori tenant list)");
                }
            }
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let p = s.trim_end_matches(['\r', '\n']).to_string();
                if p.chars().count() < 12 {
                    anyhow::bail!("the password must be at least 12 characters");
                }
                (p, false)
            } else {
                (secret::new_secret(""), true)
            };
            let user = service.store().create_user(NewUser {
                username: username.clone(),
                display_name: display_name.unwrap_or_else(|| username.clone()),
                role,
                tenants,
                password_hash: password::hash_password(&password),
                totp_secret: None,
            })?;
            println!("user '{}' created with role {}", user.username, user.role);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::ResetTwoFactor { config, username } => {
            let ctx = Context::load(&config.config)?;
            let store = ctx.open_store()?;
            let user = store
                .user_by_name(&username)?
                .ok_or_else(|| anyhow::anyhow!("--username '{username}' does not exist"))?;
            store.update_user(&user.id, UserUpdate { totp_secret: Some(None), ..Default::default() })?;
            store.delete_user_sessions(&user.id)?;
            store.append_audit(NewAuditEntry {
                at: jiff::Timestamp::now(),
                actor: "cli".into(),
                source_ip: None,
                action: "user.totp_reset".into(),
                target: user.username.clone(),
                tenant: if user.role.sees_all_tenants() { None } else { user.tenants.first().cloned() },
                outcome: "success".into(),
                detail: serde_json::json!({"via": "cli"}),
            })?;
            println!("two-factor login of '{}' reset; it is set up again at the next console login", user.username);
        }
        UserCommand::List { config, json } => {
            let ctx = Context::load(&config.config)?;
            let users = ctx.open_store()?.users()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    let state = if u.disabled { " (disabled)" } else { "" };
                    println!("{:<20} {:<17} {}{}", u.username, u.role.as_str(), u.tenants.join(","), state);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_token(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create { config, name, user, ingest, tenant, expires_days } => {
            let ctx = Context::load(&config.config)?;
            let store = ctx.open_store()?;
            let kind = match (user, ingest) {
                (Some(u), _) => {
                    let user = store.user_by_name(&u)?.ok_or_else(|| anyhow::anyhow!("--user '{u}' does not exist"))?;
                    TokenKind::User { user_id: user.id }
                }
                (None, true) => {
                    if let Some(t) = &tenant {
                        let service = ctx.config_service()?;
                        let (_, managed) = ctx.current_managed(&service)?;
                        if managed.tenant(t).is_none() {
                            anyhow::bail!("--tenant '{t}' is not a tenant");
                        }
                    }
                    TokenKind::Ingest { tenant }
                }
                (None, false) => anyhow::bail!("say what the token is for: --user NAME or --ingest [--tenant ID]"),
            };
            let plain = secret::new_secret("mmr_");
            let now = jiff::Timestamp::now();
            let token = store.create_token(NewToken {
                name,
                kind,
                token_hash: secret::hash_secret(&plain),
                expires_at: expires_days.map(|d| now + jiff::SignedDuration::from_hours(24 * d)),
            })?;
            println!("token {} created; secret (shown once):\n{plain}", token.id);
        }
        TokenCommand::List { config } => {
            let ctx = Context::load(&config.config)?;
            for t in ctx.open_store()?.tokens()? {
                let kind = match &t.kind {
                    TokenKind::User { user_id } => format!("user {user_id}"),
                    TokenKind::Ingest { tenant } => format!("ingest {}", tenant.as_deref().unwrap_or("(any tenant)")),
                };
                let state = if t.revoked { "revoked" } else { "active" };
                println!("{}  {:<30} {:<30} {}", t.id, t.name, kind, state);
            }
        }
        TokenCommand::Revoke { config, id } => {
            let ctx = Context::load(&config.config)?;
            if ctx.open_store()?.revoke_token(&id)? {
                println!("token {id} revoked");
            } else {
                anyhow::bail!("no token with id {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
