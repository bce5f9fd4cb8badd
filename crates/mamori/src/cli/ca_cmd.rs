//! `mamori ca export`: the certificate terminals install so that they accept the web proxy's
//! TLS inspection.

use std::process::ExitCode;

use clap::Subcommand;

use super::ConfigArg;
use super::context::Context;

#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Print the CA certificate (PEM) to install on terminals; created on first use.
    Export {
        #[command(flatten)]
        config: ConfigArg,
        /// The tenant whose terminals install it (its own CA when it has `tls_own_ca`, else
        /// the common one); without it, the common CA.
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn run(cmd: CaCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CaCommand::Export { config, tenant } => {
            let ctx = Context::load(&config.config)?;
            let own = match &tenant {
                Some(id) => {
                    let service = ctx.config_service()?;
                    let (_, managed) = ctx.current_managed(&service)?;
                    if !managed.tenants.iter().any(|t| &t.id == id) {
                        anyhow::bail!("no tenant with id '{id}' (mamori tenant list)");
                    }
                    managed.web.tenants.get(id).is_some_and(|p| p.tls_own_ca).then_some(id.as_str())
                }
                None => None,
            };
            std::fs::create_dir_all(&ctx.data_dir)?;
            let pem = mamori_proxy::tls::export_ca(&ctx.data_dir, own)?;
            print!("{pem}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
