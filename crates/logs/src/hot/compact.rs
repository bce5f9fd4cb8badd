//! Rewriting blocks: merging runs of small blocks (the indexer commits every second, so a
//! quiet day makes many small ones) and deleting a tenant's events when its hot retention ends.
//! Both rebuild blocks from the stored events; only the indexer thread calls them.

use mamori_query::{ValueRef, ValueTest};

use super::TENANT_FIELD;
use super::block::{Block, BlockBuilder, MAX_ROWS};
use super::eval::{Rows, rows_where};
use super::partition::Partition;
use crate::error::LogError;

/// A block with fewer rows than this is small.
const SMALL_ROWS: usize = MAX_ROWS / 4;
/// Small blocks in a row before they are merged.
const MERGE_RUN: usize = 8;

/// Merges the first run of small blocks, if there is one; returns whether it did.
pub fn merge_small_blocks(p: &Partition) -> Result<bool, LogError> {
    let names = p.block_names();
    let blocks = p.blocks();
    let mut start = 0;
    while start < blocks.len() {
        let mut end = start;
        let mut rows = 0;
        while end < blocks.len() && blocks[end].rows() < SMALL_ROWS && rows + blocks[end].rows() <= MAX_ROWS {
            rows += blocks[end].rows();
            end += 1;
        }
        if end - start >= MERGE_RUN {
            let builders = rebuild(p, &blocks[start..end], |_, _| true)?;
            p.replace(&names[start..end], builders)?;
            return Ok(true);
        }
        start = end.max(start + 1);
    }
    Ok(false)
}

/// Deletes `tenant`'s events from every block.
pub fn delete_tenant(p: &Partition, tenant: &str) -> Result<(), LogError> {
    let names = p.block_names();
    let blocks = p.blocks();
    for (name, block) in names.iter().zip(blocks.iter()) {
        let theirs = tenant_rows(p, block, tenant)?;
        if theirs.is_empty() {
            continue;
        }
        let builders = rebuild(p, std::slice::from_ref(block), |_, row| !theirs.contains(row))?;
        p.replace(std::slice::from_ref(name), builders)?;
    }
    Ok(())
}

fn tenant_rows(p: &Partition, block: &Block, tenant: &str) -> Result<Rows, LogError> {
    let test = ValueTest::Keyword { value: tenant.to_string(), number: None };
    Ok(match block.column(TENANT_FIELD).map_err(|e| LogError::index(&p.dir, e))? {
        Some(col) => rows_where(&col, block.rows(), |v| matches!(v, ValueRef::Str(_)) && test.matches(v))
            .map_err(|e| LogError::index(&p.dir, e))?,
        None => Rows::none(block.rows()),
    })
}

/// The events of `blocks` that `keep` accepts, in order, as builders of at most `MAX_ROWS`.
fn rebuild(
    p: &Partition,
    blocks: &[std::sync::Arc<Block>],
    keep: impl Fn(usize, usize) -> bool,
) -> Result<Vec<BlockBuilder>, LogError> {
    let mut out = vec![BlockBuilder::new()];
    for (bi, block) in blocks.iter().enumerate() {
        // A rewritten block gets a fresh checksum: damage must be found before, not blessed.
        block.verify().map_err(|e| LogError::index(&p.dir, e))?;
        let sources = block.sources().map_err(|e| LogError::index(&p.dir, e))?;
        for row in 0..block.rows() {
            if !keep(bi, row) {
                continue;
            }
            if out.last().is_some_and(|b| b.rows() >= MAX_ROWS) {
                out.push(BlockBuilder::new());
            }
            let b = out.last_mut().expect("one builder at least");
            b.add(block.lsn(row), sources.get(row)).map_err(|e| LogError::index(&p.dir, e))?;
        }
    }
    Ok(out)
}
