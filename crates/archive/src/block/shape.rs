//! Shapes: the structure of an event with every scalar replaced by a slot ("leaf").
//!
//! Events from one source share a handful of shapes, so a block stores each distinct shape once
//! and one small shape id per event; the scalars go to per-path columns. A shape is a pre-order
//! byte string:
//!
//! ```text
//! leaf   = 0x00
//! object = 0x01 varint(n) { varint(key_len) key_bytes(UTF-8) node }*n
//! array  = 0x02 varint(n) { node }*n
//! ```
//!
//! The same bytes are the key of the encoder's shape table, so an event's shape is found with
//! one hash of its signature instead of one per key.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::varint::{self, Reader};

/// Nesting deeper than this is refused (serde_json's own parser stops at 128 too).
pub const MAX_DEPTH: usize = 128;

const LEAF: u8 = 0;
const OBJECT: u8 = 1;
const ARRAY: u8 = 2;

/// Writes `value`'s shape signature into `sig` and its scalars, in pre-order, into `leaves`.
pub fn signature<'v>(value: &'v Value, sig: &mut Vec<u8>, leaves: &mut Vec<&'v Value>) -> Result<()> {
    walk(value, sig, leaves, 0)
}

fn walk<'v>(value: &'v Value, sig: &mut Vec<u8>, leaves: &mut Vec<&'v Value>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::Encode(format!("an event is nested deeper than {MAX_DEPTH} levels")));
    }
    match value {
        Value::Object(map) => {
            sig.push(OBJECT);
            varint::put_u64(sig, map.len() as u64);
            for (k, v) in map {
                varint::put_u64(sig, k.len() as u64);
                sig.extend_from_slice(k.as_bytes());
                walk(v, sig, leaves, depth + 1)?;
            }
        }
        Value::Array(items) => {
            sig.push(ARRAY);
            varint::put_u64(sig, items.len() as u64);
            for v in items {
                walk(v, sig, leaves, depth + 1)?;
            }
        }
        scalar => {
            sig.push(LEAF);
            leaves.push(scalar);
        }
    }
    Ok(())
}

/// One node of a parsed shape, in pre-order.
#[derive(Debug, Clone)]
pub enum Node {
    Leaf,
    /// An object; its values are the next nodes, one subtree per key.
    Object(Vec<String>),
    /// An array of this many elements, which are the next subtrees.
    Array(usize),
}

/// A parsed shape.
#[derive(Debug, Clone)]
pub struct Shape {
    pub nodes: Vec<Node>,
    /// The key path of each leaf (array levels left out), in pre-order.
    pub leaf_paths: Vec<Vec<String>>,
    /// The leaf holding `event.original` when the root is an object whose `event` is an object
    /// with an `original` scalar: that value is decoded first, because other values of the same
    /// event may refer into it.
    pub original_leaf: Option<usize>,
    /// What one event of this shape costs to decode without its scalars: a `Value` per node plus
    /// the key bytes. Counted against the limit in the block header.
    pub cost: u64,
}

/// The decode cost of one node, about what a `serde_json::Value` takes in memory.
pub const NODE_COST: u64 = 32;

impl Shape {
    /// Parses and checks a signature.
    pub fn parse(sig: &[u8]) -> Result<Shape> {
        let mut shape = Shape { nodes: Vec::new(), leaf_paths: Vec::new(), original_leaf: None, cost: 0 };
        let mut r = Reader::new(sig, "shape");
        let mut path = Vec::new();
        parse_node(&mut r, &mut shape, &mut path, false, 0)?;
        if !r.is_empty() {
            return Err(Error::damaged(format!("shape: {} bytes left after the root node", r.remaining())));
        }
        Ok(shape)
    }

    pub fn leaves(&self) -> usize {
        self.leaf_paths.len()
    }

    /// Rebuilds an event from this shape and its leaf values in pre-order. `leaves` must yield
    /// exactly [`Shape::leaves`] values (the caller decodes them from the columns).
    pub fn build(&self, leaves: &mut impl Iterator<Item = Value>) -> Result<Value> {
        let mut pos = 0;
        let v = build_node(&self.nodes, &mut pos, leaves)?;
        Ok(v)
    }
}

fn parse_node(
    r: &mut Reader<'_>,
    shape: &mut Shape,
    path: &mut Vec<String>,
    in_array: bool,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::damaged(format!("shape: nested deeper than {MAX_DEPTH} levels")));
    }
    shape.cost += NODE_COST;
    match r.u8()? {
        LEAF => {
            if !in_array && path.len() == 2 && path[0] == "event" && path[1] == "original" {
                shape.original_leaf = Some(shape.leaf_paths.len());
            }
            shape.leaf_paths.push(path.clone());
            shape.nodes.push(Node::Leaf);
        }
        OBJECT => {
            // Every entry takes at least two bytes (key length and a node).
            let n = r.len("object size")?;
            let at = shape.nodes.len();
            shape.nodes.push(Node::Object(Vec::new()));
            let mut keys = Vec::with_capacity(n.min(r.remaining() / 2));
            for _ in 0..n {
                let len = r.len("key length")?;
                let key = std::str::from_utf8(r.bytes(len)?)
                    .map_err(|_| Error::damaged("shape: a key is not UTF-8"))?
                    .to_string();
                shape.cost += key.len() as u64;
                path.push(key.clone());
                keys.push(key);
                parse_node(r, shape, path, in_array, depth + 1)?;
                path.pop();
            }
            let mut seen = keys.clone();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != keys.len() {
                return Err(Error::damaged("shape: an object repeats a key"));
            }
            shape.nodes[at] = Node::Object(keys);
        }
        ARRAY => {
            let n = r.len("array length")?;
            shape.nodes.push(Node::Array(n));
            for _ in 0..n {
                parse_node(r, shape, path, true, depth + 1)?;
            }
        }
        other => {
            return Err(Error::damaged(format!("shape: unknown node type {other}")));
        }
    }
    Ok(())
}

fn build_node(nodes: &[Node], pos: &mut usize, leaves: &mut impl Iterator<Item = Value>) -> Result<Value> {
    let node = nodes.get(*pos).ok_or_else(|| Error::damaged("shape: fewer nodes than its structure needs"))?;
    *pos += 1;
    Ok(match node {
        Node::Leaf => leaves.next().ok_or_else(|| Error::damaged("shape: fewer leaf values than leaves"))?,
        Node::Object(keys) => {
            let mut map = Map::new();
            for k in keys {
                let v = build_node(nodes, pos, leaves)?;
                map.insert(k.clone(), v);
            }
            Value::Object(map)
        }
        Node::Array(n) => {
            let mut items = Vec::with_capacity(*n);
            for _ in 0..*n {
                items.push(build_node(nodes, pos, leaves)?);
            }
            Value::Array(items)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signature_round_trips() {
        let v = json!({"a": [1, {"b": null}], "event": {"original": "x"}, "c": {}});
        let mut sig = Vec::new();
        let mut leaves = Vec::new();
        signature(&v, &mut sig, &mut leaves).unwrap();
        let shape = Shape::parse(&sig).unwrap();
        assert_eq!(shape.leaves(), leaves.len());
        assert_eq!(shape.original_leaf, Some(2));
        assert_eq!(shape.leaf_paths[1], vec!["a".to_string(), "b".to_string()]);
        let back = shape.build(&mut leaves.into_iter().cloned()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn original_inside_an_array_is_not_the_original() {
        let v = json!({"event": [{"original": "x"}]});
        let mut sig = Vec::new();
        signature(&v, &mut sig, &mut Vec::new()).unwrap();
        assert_eq!(Shape::parse(&sig).unwrap().original_leaf, None);
    }

    #[test]
    fn too_deep_is_an_error() {
        let mut v = json!(1);
        for _ in 0..200 {
            v = json!([v]);
        }
        assert!(signature(&v, &mut Vec::new(), &mut Vec::new()).is_err());
        let sig: Vec<u8> = std::iter::repeat_n([2u8, 1], 200).flatten().chain([0]).collect();
        assert!(Shape::parse(&sig).is_err());
    }
}
