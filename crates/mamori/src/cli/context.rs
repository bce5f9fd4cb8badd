//! What every subcommand needs: the checked configuration, the data directory layout and the
//! control-plane store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use mamori_control::{ConfigService, FileOutcome};
use mamori_core::config::{self, LoadedConfig};
use mamori_core::managed::ManagedConfig;
use mamori_store::{ControlStore, Revision, SqliteStore};

/// The configuration file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "mamori.toml";

/// A loaded configuration and the paths derived from it.
pub struct Context {
    pub config: LoadedConfig,
    pub data_dir: PathBuf,
}

impl Context {
    /// Loads and checks the configuration; every problem is reported. Without a file at the
    /// default path, the embedded demo configuration is used (what `mamori init` writes), so
    /// that `mamori up` works on a fresh machine.
    pub fn load(path: &Path) -> anyhow::Result<Context> {
        let config = if !path.exists() && path == Path::new(DEFAULT_CONFIG) {
            let file = config::parse_and_check(path, config::example_config()).map_err(|e| anyhow::anyhow!("{e}"))?;
            let path = std::env::current_dir()?.join(DEFAULT_CONFIG);
            LoadedConfig { path, file }
        } else {
            config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?
        };
        let data_dir = config.data_dir();
        Ok(Context { config, data_dir })
    }

    /// Whether the embedded demo configuration is in use (no file at the default path).
    pub fn is_embedded(&self) -> bool {
        !self.config.path.exists()
    }

    pub fn control_db(&self) -> PathBuf {
        self.data_dir.join("control.db")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.run_dir().join("mamori.pid")
    }

    /// The token the running server leaves for the CLI on this machine (mode 0600).
    pub fn local_token_file(&self) -> PathBuf {
        self.run_dir().join("local-ingest.token")
    }

    pub fn open_store(&self) -> anyhow::Result<Arc<dyn ControlStore>> {
        let path = self.control_db();
        let store = SqliteStore::open(&path)
            .with_context(|| format!("cannot open the control-plane store {}", path.display()))?;
        Ok(Arc::new(store))
    }

    pub fn config_service(&self) -> anyhow::Result<ConfigService> {
        Ok(ConfigService::new(self.open_store()?))
    }

    /// The configuration in force: the latest revision, or the file's on first use.
    pub fn current_managed(&self, service: &ConfigService) -> anyhow::Result<(Revision, ManagedConfig)> {
        if let Some(current) = service.current()? {
            return Ok(current);
        }
        let outcome = service.offer_file(
            &self.config.managed(),
            &file_author(&self.config.path),
            "first use of the configuration file",
        )?;
        let rev = outcome.revision().clone();
        Ok((rev, self.config.managed()))
    }

    /// The pid of a running `mamori up` for this data directory.
    pub fn server_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()?;
        // SAFETY: signal 0 only checks that the process exists.
        (unsafe { libc::kill(pid, 0) } == 0).then_some(pid)
    }
}

/// Who made a change from the command line.
pub fn cli_author() -> String {
    format!(
        "cli:{}",
        std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into())
    )
}

pub fn file_author(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// Describes the outcome of offering the file.
pub fn describe(outcome: &FileOutcome) -> String {
    match outcome {
        FileOutcome::Initialized(r) => format!("revision {} created from the file", r.number),
        FileOutcome::Applied(r) => format!("revision {} created from the changed file:\n{}", r.number, r.diff),
        FileOutcome::Unchanged(r) => {
            format!("the file is unchanged since it was applied; revision {} stays in force", r.number)
        }
    }
}
