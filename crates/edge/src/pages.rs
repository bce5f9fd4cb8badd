//! The pages the edge answers with itself, in Japanese first (residents read them) with a
//! short English line. Every page shows the request id so it can be quoted to the municipality.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::body::{EdgeBody, full};

/// What went wrong, in the words the page uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The WAF refused the request.
    Blocked,
    UnknownHost,
    TooLarge,
    BadRequest,
    OriginDown,
    OriginTimeout,
}

impl Page {
    fn texts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Page::Blocked => (
                "アクセスがブロックされました",
                "このリクエストは、ウェブサイトを攻撃から守る仕組み（WAF）によってブロックされました。心当たりがない場合は、下のリクエストIDを添えてウェブサイトの管理者（市町村）へお問い合わせください。",
                "This request was blocked by the web application firewall. If you believe this is a mistake, contact the site's operator and quote the request ID.",
            ),
            Page::UnknownHost => (
                "このサイトはここでは提供されていません",
                "お探しのホスト名のウェブサイトは、このサーバーでは提供されていません。アドレスをご確認ください。",
                "No web site with this host name is served here. Please check the address.",
            ),
            Page::TooLarge => (
                "送信データが大きすぎます",
                "送信されたデータが上限を超えているため受け付けられませんでした。ファイルを小さくしてお試しください。",
                "The request body is larger than this site accepts.",
            ),
            Page::BadRequest => (
                "リクエストの形式が正しくありません",
                "リクエストの形式に誤りがあるため処理できませんでした。",
                "The request is malformed and cannot be processed.",
            ),
            Page::OriginDown => (
                "ただいまウェブサイトに接続できません",
                "ウェブサイトのサーバーに接続できませんでした。しばらくしてから再度お試しください。",
                "The web site's server cannot be reached right now. Please try again later.",
            ),
            Page::OriginTimeout => (
                "ウェブサイトの応答がありません",
                "ウェブサイトのサーバーから時間内に応答がありませんでした。しばらくしてから再度お試しください。",
                "The web site's server did not answer in time. Please try again later.",
            ),
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub fn html(page: Page, request_id: &str) -> String {
    let (title, body_ja, body_en) = page.texts();
    let id = escape(request_id);
    format!(
        r#"<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.7;color:#222}}h1{{font-size:1.4em}}.id{{font-family:monospace;font-size:1.2em;background:#f3f3f3;padding:.2em .5em}}.en{{color:#666;font-size:.9em}}</style>
</head>
<body>
<h1>{title}</h1>
<p>{body_ja}</p>
<p>リクエストID: <span class="id">{id}</span></p>
<p class="en">{body_en} Request ID: {id}</p>
</body>
</html>
"#
    )
}

/// A page response; the caller sets nothing else.
pub fn response(page: Page, status: StatusCode, request_id: &str) -> Response<EdgeBody> {
    let mut resp = Response::new(full(Bytes::from(html(page, request_id))));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_page_names_the_request() {
        let p = html(Page::Blocked, "abc<1>");
        assert!(p.contains("ブロック") && p.contains("abc&lt;1&gt;"));
        assert!(p.contains("<meta charset=\"utf-8\">"));
    }
}
