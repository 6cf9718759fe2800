//! The seed case as data: a scenario generator that turns a TOML timeline of a machine's
//! contacts into a valid capture (pcap or pcapng), packet by packet, deterministic for a given
//! scenario. [`build`] is the packet builder it (and the tests) use; [`scenario`] the file
//! format; [`generate`] the timeline walk.

pub mod build;
pub mod generate;
pub mod quic;
pub mod scenario;
pub mod stress;

pub use generate::{generate, GenerateOptions};
pub use scenario::{Scenario, ScenarioError};
