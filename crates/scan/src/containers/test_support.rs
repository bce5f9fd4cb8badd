//! What the container readers' unit tests share: a visitor that keeps every member.

use super::{Flow, Member, Visitor};
use crate::limits::ReadCap;

/// Keeps the name and bytes of each member with data, and counts the other members.
pub(crate) struct Collect(pub Vec<(String, Vec<u8>)>, pub usize);

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
            _ => self.1 += 1,
        }
        Flow::Continue
    }
}
