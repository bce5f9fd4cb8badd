//! What the container readers' unit tests share: a visitor that keeps every member.

use super::{Flow, Member, Visitor};
use crate::limits::ReadCap;

/// Keeps the name and bytes of each member with data, and why each other member has none.
#[derive(Default)]
pub(crate) struct Collect(pub Vec<(String, Vec<u8>)>, pub Vec<String>);

impl Visitor for Collect {
    fn cap(&self) -> ReadCap {
        ReadCap { max_bytes: 1 << 20, max_ratio: 1000 }
    }
    fn max_members(&self) -> u64 {
        100
    }
    fn member(&mut self, member: Member) -> Flow {
        match member {
            Member::Data { name, data, .. } => self.0.push((name, data)),
            Member::Unscannable { reason, .. } => self.1.push(reason),
            Member::Failed { error, .. } => self.1.push(error.to_string()),
        }
        Flow::Continue
    }
}
