//! Messages in Japanese (the default) and English. Each language has its own catalogue file;
//! a test checks that both have the same keys.

mod en;
mod ja;

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::http::HeaderMap;

pub const COOKIE: &str = "mamori_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language chosen with the language cookie; Japanese otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        mamori_api::extract::cookie(headers, COOKIE).and_then(Lang::parse).unwrap_or(Lang::Ja)
    }

    /// The other language, for the switch in the header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// The message `key`; the key itself when a catalogue lacks it (a test prevents that).
    pub fn t(self, key: &'static str) -> &'static str {
        static TABLES: OnceLock<[HashMap<&'static str, &'static str>; 2]> = OnceLock::new();
        let tables =
            TABLES.get_or_init(|| [ja::MESSAGES.iter().copied().collect(), en::MESSAGES.iter().copied().collect()]);
        let table = match self {
            Lang::Ja => &tables[0],
            Lang::En => &tables[1],
        };
        table.get(key).copied().unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn catalogues_have_the_same_keys_once() {
        let keys = |m: &[(&'static str, &'static str)]| {
            let set: BTreeSet<&str> = m.iter().map(|(k, _)| *k).collect();
            assert_eq!(set.len(), m.len(), "a key appears twice");
            set
        };
        assert_eq!(keys(ja::MESSAGES), keys(en::MESSAGES));
    }

    #[test]
    fn language_from_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Ja);
        h.insert(axum::http::header::COOKIE, "a=b; mamori_lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
        assert_eq!(Lang::En.t("nav.search"), "Log search");
        assert_eq!(Lang::Ja.t("nav.search"), "ログ検索");
    }
}
