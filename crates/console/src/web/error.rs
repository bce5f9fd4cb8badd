//! Error pages. The status tells the browser what happened; the page says it in the
//! operator's language, with the API's own explanation when there is one.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mamori_api::ApiError;
use maud::html;

use super::layout::bare;
use crate::i18n::Lang;

#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub lang: Lang,
    /// A catalogue key, or the API's message when `detail` is set.
    pub key: &'static str,
    pub detail: Option<String>,
}

pub type PageResult<T> = Result<T, PageError>;

impl PageError {
    pub fn new(status: StatusCode, lang: Lang, key: &'static str) -> Self {
        PageError { status, lang, key, detail: None }
    }

    pub fn forbidden(lang: Lang, key: &'static str) -> Self {
        PageError::new(StatusCode::FORBIDDEN, lang, key)
    }

    /// Missing or not visible to the caller: the same answer, so ids of other tenants reveal
    /// nothing.
    pub fn not_found(lang: Lang) -> Self {
        PageError::new(StatusCode::NOT_FOUND, lang, "error.not_found")
    }

    pub fn csrf(lang: Lang) -> Self {
        PageError::new(StatusCode::FORBIDDEN, lang, "error.csrf")
    }

    /// An error of the API layer, with its message.
    pub fn api(lang: Lang, e: ApiError) -> Self {
        let key = match e.status.as_u16() {
            400 | 422 => "error.invalid",
            401 => "error.login",
            403 => "error.role",
            404 => "error.not_found",
            409 => "error.conflict",
            429 => "error.locked",
            _ => "error.internal",
        };
        PageError { status: e.status, lang, key, detail: Some(e.message.clone()) }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let l = self.lang;
        let body = html! {
            main.narrow {
                h1 { (self.status.as_u16()) " " (l.t(self.key)) }
                @if let Some(d) = &self.detail { p.detail { (d) } }
                p { a href="/console/" { (l.t("error.back")) } }
            }
        };
        (self.status, bare(l, l.t(self.key), body)).into_response()
    }
}

/// Any `/console/...` path that is not a page.
pub async fn not_found(headers: axum::http::HeaderMap, _uri: Uri) -> Response {
    PageError::not_found(Lang::from_headers(&headers)).into_response()
}
