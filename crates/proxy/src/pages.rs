//! The pages the proxy answers with itself: block, bad gateway, bad request. Japanese unless
//! the browser prefers English.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::server::Body;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// English when the browser's most preferred language is English, Japanese otherwise.
    pub fn of(headers: &HeaderMap) -> Lang {
        let Some(v) = headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::Ja;
        };
        let mut best: Option<(f32, &str)> = None;
        for part in v.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, tag));
            }
        }
        match best {
            Some((_, tag)) if tag.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Ja,
        }
    }
}

/// Why a request was blocked, in words for the person in front of the screen.
#[derive(Debug, Clone)]
pub struct BlockInfo {
    pub url: String,
    pub kind: BlockKind,
    /// The list or category.
    pub list: String,
    pub request_id: String,
    pub helpdesk: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Threat,
    Listed,
    Category,
    WriteRestricted,
    NotAllowListed,
    NoTenant,
    /// The scanning engine found malware (the list is the signature name).
    Malware,
    /// The body could not be scanned and the tenant fails closed (the list is why).
    Unscanned,
    /// The scan found the body suspicious and the tenant fails closed (the list is why).
    Suspicious,
}

impl BlockKind {
    pub fn code(self) -> &'static str {
        match self {
            BlockKind::Threat => "threat",
            BlockKind::Listed => "block-list",
            BlockKind::Category => "category",
            BlockKind::WriteRestricted => "write-restriction",
            BlockKind::NotAllowListed => "not-allow-listed",
            BlockKind::NoTenant => "unknown-source",
            BlockKind::Malware => "malware",
            BlockKind::Unscanned => "unscanned",
            BlockKind::Suspicious => "suspicious",
        }
    }

    fn explain(self, lang: Lang, list: &str) -> String {
        let list = escape(list);
        match (lang, self) {
            (Lang::Ja, BlockKind::Threat) => format!("危険なサイト（脅威情報「{list}」）に登録されています。"),
            (Lang::Ja, BlockKind::Listed) => format!("接続禁止リスト「{list}」に登録されています。"),
            (Lang::Ja, BlockKind::Category) => format!("このサイトのカテゴリ「{list}」は閲覧が禁止されています。"),
            (Lang::Ja, BlockKind::WriteRestricted) => {
                format!("「{list}」のサイトは閲覧のみ許可されています。書き込みやアップロードはできません。")
            }
            (Lang::Ja, BlockKind::NotAllowListed) => "許可リストにないサイトです。".to_string(),
            (Lang::Ja, BlockKind::NoTenant) => "この端末はどの団体のネットワークにも登録されていません。".to_string(),
            (Lang::En, BlockKind::Threat) => format!("The site is listed as dangerous (threat list \"{list}\")."),
            (Lang::En, BlockKind::Listed) => format!("The site is on the block list \"{list}\"."),
            (Lang::En, BlockKind::Category) => format!("Sites of the category \"{list}\" are blocked."),
            (Lang::En, BlockKind::WriteRestricted) => {
                format!("Sites of \"{list}\" may be read but not written to; posting and uploads are blocked.")
            }
            (Lang::En, BlockKind::NotAllowListed) => "The site is not on the allow list.".to_string(),
            (Lang::En, BlockKind::NoTenant) => "This terminal is in no member network.".to_string(),
            (Lang::Ja, BlockKind::Malware) => format!("ウイルス（マルウェア）「{list}」が検出されたため、止めました。"),
            (Lang::En, BlockKind::Malware) => format!("Malware \"{list}\" was found; the transfer was stopped."),
            (Lang::Ja, BlockKind::Unscanned) => {
                format!("ウイルス検査ができなかったため、止めました（{list}）。")
            }
            (Lang::En, BlockKind::Unscanned) => format!("The content could not be checked for malware ({list})."),
            (Lang::Ja, BlockKind::Suspicious) => format!("不審なファイルのため、止めました（{list}）。"),
            (Lang::En, BlockKind::Suspicious) => format!("The file looks suspicious ({list}); it was stopped."),
        }
    }
}

pub fn block_page(info: &BlockInfo, lang: Lang) -> Response<Body> {
    let (title, blocked, reason, id, contact, none) = match lang {
        Lang::Ja => (
            "アクセスがブロックされました",
            "ブロックされたURL",
            "理由",
            "要求ID",
            "お問い合わせ先",
            "情報システム担当",
        ),
        Lang::En => ("Access blocked", "Blocked URL", "Reason", "Request ID", "Helpdesk", "your IT department"),
    };
    let helpdesk = escape(info.helpdesk.as_deref().unwrap_or(none));
    let body = format!(
        "<!doctype html><html lang=\"{l}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><dl><dt>{blocked}</dt><dd><code>{url}</code></dd><dt>{reason}</dt><dd>{why}</dd>\
         <dt>{id}</dt><dd><code>{rid}</code></dd><dt>{contact}</dt><dd>{helpdesk}</dd></dl>\
         <p>mamori</p></body></html>\n",
        l = if lang == Lang::Ja { "ja" } else { "en" },
        url = escape(&info.url),
        why = info.kind.explain(lang, &info.list),
        rid = escape(&info.request_id),
    );
    let mut r = html(StatusCode::FORBIDDEN, body);
    if let Ok(v) = HeaderValue::from_str(info.kind.code()) {
        r.headers_mut().insert("x-mamori-block", v);
    }
    r
}

pub fn bad_gateway(url: &str, why: &str, lang: Lang) -> Response<Body> {
    let (title, text) = match lang {
        Lang::Ja => {
            ("接続できませんでした", "接続先のサーバーに接続できませんでした。時間をおいて再度お試しください。")
        }
        Lang::En => ("Cannot connect", "The server of this site could not be reached. Please try again later."),
    };
    html(
        StatusCode::BAD_GATEWAY,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>\
             <p>{text}</p><p><code>{}</code></p><p><small>{}</small></p></body></html>\n",
            escape(url),
            escape(why)
        ),
    )
}

/// A request body over the limit.
pub fn too_large(limit: u64, lang: Lang) -> Response<Body> {
    let (title, text) = match lang {
        Lang::Ja => ("送信データが大きすぎます", format!("送信できるデータは {limit} バイトまでです。")),
        Lang::En => ("Request too large", format!("Requests may carry at most {limit} bytes.")),
    };
    simple(StatusCode::PAYLOAD_TOO_LARGE, title, &text, "")
}

/// The origin of a decrypted connection could not be verified: the terminal is not told
/// a silent lie, it is told why.
pub fn origin_certificate(url: &str, why: &str, lang: Lang) -> Response<Body> {
    let (title, text) = match lang {
        Lang::Ja => (
            "安全な接続を確認できませんでした",
            "接続先のサーバー証明書を検証できなかったため、接続を中止しました。偽のサイトの可能性があります。",
        ),
        Lang::En => ("Cannot verify the site", "The certificate of this site could not be verified; it may be fake."),
    };
    simple(StatusCode::BAD_GATEWAY, title, text, &format!("{url}: {why}"))
}

fn simple(status: StatusCode, title: &str, text: &str, detail: &str) -> Response<Body> {
    html(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>\
             <p>{}</p><p><small>{}</small></p></body></html>\n",
            escape(text),
            escape(detail)
        ),
    )
}

pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(crate::server::full(Bytes::from(format!("{text}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn html(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(crate::server::full(Bytes::from(body)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("content-security-policy", HeaderValue::from_static("default-src 'none'"));
    r
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_the_browser() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(http::header::ACCEPT_LANGUAGE, v.parse().unwrap());
            Lang::of(&m)
        };
        assert_eq!(Lang::of(&HeaderMap::new()), Lang::Ja);
        assert_eq!(h("en-US,en;q=0.9,ja;q=0.8"), Lang::En);
        assert_eq!(h("ja,en-US;q=0.9"), Lang::Ja);
        assert_eq!(h("fr;q=0.5, en;q=0.7"), Lang::En);
    }

    #[test]
    fn block_pages_escape_what_they_show() {
        let info = BlockInfo {
            url: "http://x.example/<script>".into(),
            kind: BlockKind::Category,
            list: "gambling".into(),
            request_id: "r1".into(),
            helpdesk: Some("情報政策課 内線 1234".into()),
        };
        let r = block_page(&info, Lang::Ja);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()["x-mamori-block"], "category");
    }
}
