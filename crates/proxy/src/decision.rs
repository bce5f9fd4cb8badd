//! One URL-filter decision for a request, in the terms the block page and the log use.

use mamori_urlfilter::{Decision, ListId, Matches, Method, Reason, Target};

use crate::client::Client;
use crate::pages::BlockKind;
use crate::state::ProxyState;

/// Lists named `category:NAME` are categories; the rest are named lists.
pub const CATEGORY_PREFIX: &str = "category:";

pub struct Decided {
    pub blocked: Option<(BlockKind, String)>,
    /// The allow list that let it through, for the log.
    pub allowed_by: Option<String>,
    pub categories: Vec<String>,
    /// Every list the URL is on.
    pub matched: Vec<ListId>,
}

pub fn decide(state: &ProxyState, client: &Client, target: &Target, method: Method) -> Decided {
    if client.tenant.is_none() && !state.allow_unassigned {
        let blocked = Some((BlockKind::NoTenant, String::new()));
        return Decided { blocked, allowed_by: None, categories: vec![], matched: vec![] };
    }
    let web = state.web_policy(client.tenant.as_deref());
    let mut m = Matches::default();
    state.matcher.lookup(target, &mut m);
    let verdict = web.policy.decide(&m, method);
    let name = |l| state.matcher.list_name(l).to_string();
    let categories = m
        .lists()
        .iter()
        .filter_map(|l| state.matcher.list_name(*l).strip_prefix(CATEGORY_PREFIX).map(str::to_string))
        .collect();
    let blocked = match (verdict.decision, verdict.reason) {
        (Decision::Allow, _) => None,
        (_, Reason::Threat(l)) => Some((BlockKind::Threat, name(l))),
        (_, Reason::Blocked(l)) => {
            let n = name(l);
            match n.strip_prefix(CATEGORY_PREFIX) {
                Some(c) => Some((BlockKind::Category, c.to_string())),
                None => Some((BlockKind::Listed, n)),
            }
        }
        (_, Reason::WriteRestricted(l)) => {
            let n = name(l);
            Some((BlockKind::WriteRestricted, n.strip_prefix(CATEGORY_PREFIX).map(str::to_string).unwrap_or(n)))
        }
        (_, _) => Some((BlockKind::NotAllowListed, String::new())),
    };
    let allowed_by = match verdict.reason {
        Reason::AllowList(l) => Some(name(l)),
        _ => None,
    };
    Decided { blocked, allowed_by, categories, matched: m.lists().to_vec() }
}
