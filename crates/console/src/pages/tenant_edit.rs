//! Changing a tenant with a reason, which becomes a configuration revision (validated as a
//! whole; a refused change shows every problem and applies nothing). The prefecture's
//! administrators change everything; a municipality's administrator only its contacts.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use mamori_api::AppState;
use mamori_api::change::{ChangeMeta, apply_change};
use mamori_core::tenant::Contact;
use mamori_core::{NetworkModel, Tenant};
use mamori_store::Role;
use maud::{Markup, html};
use serde_json::Value;

use super::tenants::{may_edit, model_name, name, visible};
use crate::web::auth::Console;
use crate::web::error::{PageError, PageResult};
use crate::web::form::{Fields, Posted};
use crate::web::layout::{csrf, notice, page};

const MODELS: [NetworkModel; 4] =
    [NetworkModel::Alpha, NetworkModel::AlphaPrime, NetworkModel::Beta, NetworkModel::BetaPrime];

fn contacts_text(t: &Tenant) -> String {
    t.contacts
        .iter()
        .map(|c| {
            [Some(c.name.as_str()), c.role.as_deref(), c.email.as_deref(), c.phone.as_deref()]
                .map(|v| v.unwrap_or(""))
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Contacts from lines of `name | role | email | phone`.
fn parse_contacts(text: &str) -> Vec<Contact> {
    let opt = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('|');
            Contact {
                name: parts.next().unwrap_or("").trim().to_owned(),
                role: opt(parts.next()),
                email: opt(parts.next()),
                phone: opt(parts.next()),
            }
        })
        .collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn form(c: &Console, t: &Tenant, f: Option<&Fields>, problems: &[String]) -> Markup {
    let full = c.role() == Role::PrefectureAdmin;
    let val = |name: &str, current: String| f.map_or(current, |f| f.get(name).to_owned());
    html! {
        @for p in problems { (notice("error", p)) }
        form.stack.edit method="post" action={ "/console/tenants/" (t.id) } {
            (csrf(&c.csrf))
            @if full {
                label { (c.t("tenant.name_ja")) input name="name_ja" value=(val("name_ja", t.name_ja.clone())) required; }
                label { (c.t("tenant.name_en")) input name="name_en" value=(val("name_en", t.name_en.clone())) required; }
                label { (c.t("tenant.model")) select name="network_model" {
                    @for m in MODELS {
                        @let v = serde_json::to_value(m).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                        option value=(v) selected[m == t.network_model] { (model_name(m)) }
                    }
                } }
                label { (c.t("tenant.networks")) " " small { (c.t("form.one_per_line")) }
                    textarea name="networks" rows="4" { (val("networks", t.networks.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("\n"))) } }
                label { (c.t("tenant.domains")) " " small { (c.t("form.one_per_line")) }
                    textarea name="domains" rows="3" { (val("domains", t.domains.join("\n"))) } }
                label { (c.t("tenant.hot_days")) " " small { (c.t("form.empty_default")) }
                    input name="hot_days" inputmode="numeric" value=(val("hot_days", t.retention.hot_days.map(|d| d.to_string()).unwrap_or_default())); }
                label { (c.t("tenant.archive_years")) " " small { (c.t("form.empty_default")) }
                    input name="archive_years" inputmode="numeric" value=(val("archive_years", t.retention.archive_years.map(|d| d.to_string()).unwrap_or_default())); }
            }
            label { (c.t("tenant.contacts")) " " small { (c.t("form.contacts_format")) }
                textarea name="contacts" rows="4" { (val("contacts", contacts_text(t))) } }
            label { (c.t("form.reason")) " " small { (c.t("form.reason_hint")) }
                input name="reason" value=(f.map_or("", |f| f.get("reason"))) required; }
            button type="submit" #save { (c.t("form.save")) }
        }
    }
}

/// `GET /console/tenants/{id}/edit`.
pub async fn form_page(State(state): State<AppState>, c: Console, Path(id): Path<String>) -> PageResult<Response> {
    let t = visible(&state, &c, &id)?;
    c.require(may_edit(&c))?;
    let title = format!("{} — {}", name(&t, c.lang), c.t("tenant.edit"));
    Ok(page(&c, &title, "/console/tenants", form(&c, &t, None, &[])).into_response())
}

fn number(f: &Fields, field: &str) -> Result<Option<u32>, String> {
    f.opt(field).map(|v| v.parse::<u32>().map_err(|_| format!("{field}: '{v}' is not a whole number"))).transpose()
}

/// The tenant as the form describes it, or what is wrong with the form.
fn edited(c: &Console, t: &Tenant, f: &Fields) -> Result<Tenant, Vec<String>> {
    let mut new = t.clone();
    new.contacts = parse_contacts(f.get("contacts"));
    if c.role() != Role::PrefectureAdmin {
        return Ok(new);
    }
    let mut problems = Vec::new();
    new.name_ja = f.get("name_ja").trim().to_owned();
    new.name_en = f.get("name_en").trim().to_owned();
    match serde_json::from_value::<NetworkModel>(Value::String(f.get("network_model").to_owned())) {
        Ok(m) => new.network_model = m,
        Err(_) => problems.push(format!("network_model: '{}' is not α, α', β or β'", f.get("network_model"))),
    }
    new.networks = Vec::new();
    for n in lines(f.get("networks")) {
        match n.parse() {
            Ok(net) => new.networks.push(net),
            Err(_) => problems.push(format!("networks: '{n}' is not a network in CIDR form (10.1.0.0/16)")),
        }
    }
    new.domains = lines(f.get("domains"));
    match (number(f, "hot_days"), number(f, "archive_years")) {
        (Ok(h), Ok(a)) => {
            new.retention.hot_days = h;
            new.retention.archive_years = a;
        }
        (h, a) => problems.extend(h.err().into_iter().chain(a.err())),
    }
    if problems.is_empty() { Ok(new) } else { Err(problems) }
}

/// `POST /console/tenants/{id}`.
pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { c, f }: Posted,
) -> PageResult<Response> {
    let t = visible(&state, &c, &id)?;
    c.require(may_edit(&c))?;
    let title = format!("{} — {}", name(&t, c.lang), c.t("tenant.edit"));
    let new = match edited(&c, &t, &f) {
        Ok(n) => n,
        Err(problems) => {
            return Ok(page(&c, &title, "/console/tenants", form(&c, &t, Some(&f), &problems)).into_response());
        }
    };
    let full = c.role() == Role::PrefectureAdmin;
    let index = state.current().config.tenants.iter().position(|x| x.id == id);
    let meta = ChangeMeta {
        action: if full { "tenant.replace" } else { "tenant.contacts" },
        target: format!("tenant:{id}"),
        tenant: Some(id.clone()),
        reason: f.get("reason").trim().to_owned(),
        expected_revision: None,
        visible_path: if full { None } else { index.map(|i| format!("tenants[{i}]")) },
    };
    let target = id.clone();
    let result = apply_change(&state, &c.op, meta, move |config| {
        let slot = config
            .tenants
            .iter_mut()
            .find(|x| x.id == target)
            .ok_or_else(|| mamori_api::ApiError::not_found("the tenant no longer exists"))?;
        if full {
            *slot = new
        } else {
            slot.contacts = new.contacts
        }
        Ok(())
    })
    .await;
    match result {
        Ok(rev) => Ok(Redirect::to(&format!("/console/tenants/{id}?saved={}", rev.number)).into_response()),
        Err(e) if matches!(e.status.as_u16(), 400 | 409 | 422) => {
            let mut problems = vec![e.message.clone()];
            if let Some(Value::Array(list)) = e.extra.get("problems") {
                problems.extend(
                    list.iter().map(|p| {
                        format!("{}: {}", p["path"].as_str().unwrap_or(""), p["message"].as_str().unwrap_or(""))
                    }),
                );
            }
            let r = page(&c, &title, "/console/tenants", form(&c, &t, Some(&f), &problems));
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, r).into_response())
        }
        Err(e) => Err(PageError::api(c.lang, e)),
    }
}
