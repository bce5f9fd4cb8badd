//! The query log (`event.dataset: dns.query`): one ECS event per query and its answer, written
//! as its JSON record straight into a batch that goes to the log store whole. Building an
//! `Event` (serde_json values, clones) and encoding it per query cost more CPU than answering
//! a cached question, so the record is written field by field here instead; its fields and
//! values are those the `Event` form had (the tests compare the two).

mod answers;
mod batch;
mod record;

pub use answers::{AnswerLog, LoggedAnswers};
pub use batch::{HOLD, QueryLogBatch};
pub use record::{HeaderFlags, QueryRecord, write_query_event};

#[cfg(test)]
mod tests;
