//! `mamori init`: write the example configuration.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

pub fn run(dir: &Path, force: bool) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("mamori.toml");
    if path.exists() && !force {
        anyhow::bail!("{} already exists; use --force to overwrite it", path.display());
    }
    std::fs::write(&path, mamori_core::config::example_config())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {} with two demo tenants (みどり市 midori, あおば町 aoba)", path.display());
    println!("next:  mamori check-config --config {0}\n       mamori up --config {0}", path.display());
    Ok(ExitCode::SUCCESS)
}
