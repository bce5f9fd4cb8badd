//! The one error type of the API and its JSON form.
//!
//! Every failure a client can see is `{"error": "...", "field": "..."}` with the status that
//! tells the client what to do (fix the input, log in, back off, retry later). Details of
//! internal failures are logged, never sent: they may name files or hold data of other tenants.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_control::ChangeError;
use mamori_core::config::Problem;
use mamori_store::StoreError;
use serde_json::{Map, Value, json};

/// An error response. Boxed so that `Result<T, ApiError>` stays small on the happy path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

/// What an [`ApiError`] carries.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub status: StatusCode,
    pub message: String,
    /// The request field the error is about (`username`, `tenants[2]`, `query`).
    pub field: Option<String>,
    /// Extra members of the JSON body (`problems`, `position`).
    pub extra: Map<String, Value>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;

    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorBody {
            status,
            message: message.into(),
            field: None,
            extra: Map::new(),
            retry_after: None,
        }))
    }

    /// Names the request field the error is about.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.to_owned(), value);
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.0.retry_after = Some(seconds.max(1));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 400 about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::bad_request(message).with_field(field)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// 500. The detail goes to the log only; the client learns that it was not its fault.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error in the API");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the details are in the mamori log")
    }

    /// 422 with every problem of a refused configuration change.
    pub fn invalid_config(problems: &[Problem]) -> Self {
        let list: Vec<Value> =
            problems.iter().map(|p| json!({"path": p.path.to_string(), "message": p.message})).collect();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the configuration change is invalid ({} problem{}); nothing was applied",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
        )
        .with("problems", Value::Array(list));
        if let Some(first) = problems.first() {
            let path = first.path.to_string();
            if !path.is_empty() {
                e = e.with_field(path);
            }
        }
        e
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = *self.0;
        let mut body = Map::new();
        body.insert("error".into(), Value::String(e.message));
        if let Some(field) = e.field {
            body.insert("field".into(), Value::String(field));
        }
        body.extend(e.extra);
        let mut response = (e.status, axum::Json(Value::Object(body))).into_response();
        if let Some(secs) = e.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            StoreError::Backend(m) => ApiError::internal(format!("control-plane store: {m}")),
        }
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(problems) => ApiError::invalid_config(&problems),
            ChangeError::Conflict(m) => ApiError::conflict(format!(
                "{m}; another change was recorded first: reload and apply yours on top of it"
            ))
            .with_field("expected_revision"),
            ChangeError::NotFound(m) => ApiError::not_found(m),
            ChangeError::Store(m) => ApiError::internal(format!("configuration store: {m}")),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::config::FieldPath;

    #[test]
    fn invalid_config_lists_problems_and_names_the_first_field() {
        let e = ApiError::invalid_config(&[
            Problem::new(FieldPath::parse("tenants[0].name_ja"), "empty"),
            Problem::new(FieldPath::parse("logs.hot_days"), "too small"),
        ]);
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("tenants[0].name_ja"));
        assert_eq!(e.extra["problems"][1]["path"], "logs.hot_days");
    }

    #[test]
    fn backend_errors_do_not_leak_details() {
        let e = ApiError::from(StoreError::Backend("/var/lib/mamori/x.db: disk I/O".into()));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("/var/lib"));
    }
}
