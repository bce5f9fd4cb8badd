//! Test helpers shared by the integration tests and the examples.

#![allow(dead_code)]

pub mod random_json;
pub mod rng;
pub mod synth;
