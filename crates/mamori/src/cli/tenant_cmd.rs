//! `mamori tenant list | add`.

use std::process::ExitCode;

use clap::Subcommand;
use mamori_core::tenant::{Contact, NetworkModel, Tenant};

use super::ConfigArg;
use super::context::{Context, cli_author};

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// List the tenants in force.
    List {
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
    /// Add a tenant (a new configuration revision).
    Add {
        #[command(flatten)]
        config: ConfigArg,
        /// Short ASCII id, e.g. sakura.
        #[arg(long)]
        id: String,
        /// Japanese name, e.g. さくら村.
        #[arg(long)]
        name_ja: String,
        /// English name, e.g. Sakura Village.
        #[arg(long)]
        name_en: String,
        /// Network model: alpha, alpha-prime, beta, beta-prime (or α, α', β, β').
        #[arg(long, default_value = "beta")]
        model: String,
        /// A network of the tenant (CIDR); repeat for several.
        #[arg(long = "network")]
        networks: Vec<String>,
        /// A domain of the tenant; repeat for several.
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Helpdesk contact as "name,email[,phone]".
        #[arg(long = "contact")]
        contacts: Vec<String>,
        /// Why; recorded with the revision.
        #[arg(long)]
        reason: String,
    },
}

pub fn run(cmd: TenantCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TenantCommand::List { config, json } => {
            let ctx = Context::load(&config.config)?;
            let service = ctx.config_service()?;
            let (rev, managed) = ctx.current_managed(&service)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&managed.tenants)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{} tenants (revision {})", managed.tenants.len(), rev.number);
            for t in &managed.tenants {
                let r = managed.retention_for(&t.id);
                println!(
                    "{:<12} {} / {}  model {}  networks {}  domains {}  retention {}d hot, {}y archive",
                    t.id,
                    t.name_ja,
                    t.name_en,
                    t.network_model,
                    join(&t.networks),
                    join(&t.domains),
                    r.hot_days,
                    r.archive_years
                );
            }
        }
        TenantCommand::Add { config, id, name_ja, name_en, model, networks, domains, contacts, reason } => {
            let ctx = Context::load(&config.config)?;
            let service = ctx.config_service()?;
            let (rev, mut managed) = ctx.current_managed(&service)?;
            let network_model: NetworkModel = serde_json::from_value(serde_json::Value::String(model.clone()))
                .map_err(|_| anyhow::anyhow!("--model '{model}' is not one of alpha, alpha-prime, beta, beta-prime"))?;
            let networks = networks
                .iter()
                .map(|n| n.parse().map_err(|_| anyhow::anyhow!("--network '{n}' is not a CIDR such as 10.3.0.0/16")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let contacts = contacts.iter().map(|c| parse_contact(c)).collect::<anyhow::Result<Vec<_>>>()?;
            if managed.tenant(&id).is_some() {
                anyhow::bail!("tenant '{id}' already exists");
            }
            managed.tenants.push(Tenant {
                id: id.clone(),
                name_ja,
                name_en,
                network_model,
                networks,
                domains,
                contacts,
                retention: Default::default(),
            });
            let r = service.change(&managed, &cli_author(), "cli", &reason, Some(rev.number))?;
            println!("tenant '{id}' added in revision {}", r.number);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_contact(s: &str) -> anyhow::Result<Contact> {
    let mut parts = s.split(',').map(str::trim);
    let name = parts
        .next()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| anyhow::anyhow!("--contact needs \"name,email[,phone]\""))?;
    Ok(Contact {
        name: name.to_string(),
        role: Some("helpdesk".into()),
        email: parts.next().filter(|s| !s.is_empty()).map(str::to_string),
        phone: parts.next().filter(|s| !s.is_empty()).map(str::to_string),
    })
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() { "-".into() } else { items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",") }
}
