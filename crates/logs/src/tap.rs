//! A tap on accepted events: a consumer outside the store (live detection) sees every batch
//! once it is durable, whichever receiver sent it. Set once at start; costs nothing unset.

use std::sync::{Arc, OnceLock};

use mamori_core::sink::EncodedEvents;

/// Called with each durable batch. It must return quickly (hand the batch to a queue): the
/// sender's acknowledgement waits for it.
pub type TapFn = dyn Fn(&EncodedEvents) + Send + Sync;

/// Shared by the store and every sink it hands out.
#[derive(Clone, Default)]
pub struct Tap(Arc<OnceLock<Arc<TapFn>>>);

impl Tap {
    /// Installs the consumer; `false` when one is installed already.
    pub fn set(&self, f: Arc<TapFn>) -> bool {
        self.0.set(f).is_ok()
    }

    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }

    pub(crate) fn notify(&self, batch: &EncodedEvents) {
        if let Some(f) = self.0.get() {
            f(batch);
        }
    }
}
