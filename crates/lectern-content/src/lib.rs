//! Lectern's content layer: the course tree with Open edX keys, OLX reading
//! and writing, the problem engine and the grader.
//!
//! Pure code: no database, no network, no clock or file access beyond what a
//! caller hands in. Everything here is deterministic and unit-tested.

pub mod calc;
pub mod grader;
pub mod keys;
pub mod limits;
pub mod olx;
pub mod problem;
pub mod sanitize;
pub mod script_runner;
#[cfg(any(test, feature = "unsandboxed-runner"))]
pub mod script_testing;
pub mod transcript;
pub mod tree;

pub use keys::{BlockRef, CourseKey, KeyError, UsageKey};
pub use tree::{Asset, Block, CourseTree};
