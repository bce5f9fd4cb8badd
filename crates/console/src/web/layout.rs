//! The page shell: head, header with navigation (only what the role may open), the language
//! switch and logout, then the page. All text goes through maud, which escapes it.

use axum::response::Html;
use mamori_store::Role;
use maud::{DOCTYPE, Markup, html};

use super::auth::Console;
use super::form::CSRF_FIELD;
use crate::i18n::Lang;

/// A navigation entry: path, message key, and whether a role sees it.
type NavEntry = (&'static str, &'static str, fn(Role) -> bool);

const NAV: &[NavEntry] = &[
    ("/console/", "nav.dashboard", |_| true),
    ("/console/search", "nav.search", |_| true),
    ("/console/tenants", "nav.tenants", |_| true),
    ("/console/users", "nav.users", |r| matches!(r, Role::PrefectureAdmin | Role::Auditor)),
    ("/console/history", "nav.history", |r| r.sees_all_tenants()),
    ("/console/audit", "nav.audit", |_| true),
];

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — mamori" }
            link rel="stylesheet" href="/console/static/console.css";
            link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml";
            script src="/console/static/console.js" defer {}
            meta name="lang" content=(lang.code());
        }
    }
}

/// A page without navigation (login, errors).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.bare {
                header.top {
                    span.brand { "mamori" }
                    span.sub { (lang.t("brand.sub")) }
                    a.lang href={ "/console/lang/" (lang.other().code()) } { (lang.t("lang.switch")) }
                }
                (body)
            }
        }
    };
    Html(page.into_string())
}

/// A hidden field with the session's CSRF token, for every form that changes something.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A full page for a logged-in operator; `active` is the navigation path to highlight.
pub fn page(c: &Console, title: &str, active: &str, body: Markup) -> Html<String> {
    let role = c.role();
    let lang = c.lang;
    let back: String = form_urlencoded::byte_serialize(c.here.as_bytes()).collect();
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    a.brand href="/console/" { "mamori" }
                    nav {
                        @for (path, key, visible) in NAV {
                            @if visible(role) {
                                a href=(path) class=[(*path == active).then_some("active")] { (lang.t(key)) }
                            }
                        }
                    }
                    span.who {
                        span.user { (c.op.user.display_name) }
                        span.role { (lang.t(role_key(role))) }
                        @if let Some(t) = c.op.scope.as_filter() { span.scope { (t.join(", ")) } }
                    }
                    a.lang href={ "/console/lang/" (lang.other().code()) "?back=" (back) } { (lang.t("lang.switch")) }
                    a href="/console/account" { (lang.t("nav.account")) }
                    form.inline method="post" action="/console/logout" {
                        (csrf(&c.csrf))
                        button.link type="submit" { (lang.t("nav.logout")) }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    Html(page.into_string())
}

pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::SocAnalyst => "role.soc_analyst",
        Role::PrefectureAdmin => "role.prefecture_admin",
        Role::MunicipalAdmin => "role.municipal_admin",
        Role::Auditor => "role.auditor",
    }
}

/// A notice above a page (a change saved, an error in a form).
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={ "notice " (kind) } { (text) } }
}
