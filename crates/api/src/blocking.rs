//! Running synchronous work (the control-plane store, password hashing, parsing large bodies)
//! off the async threads, so one slow disk or one Argon2 hash does not stall every connection.

use crate::error::{ApiError, ApiResult};

/// Runs `f` on tokio's blocking pool.
pub async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> ApiResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(ApiError::internal(format!("blocking task failed: {e}"))),
    }
}
