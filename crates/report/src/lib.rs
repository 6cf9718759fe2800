//! Output shared by the phonehome binaries (DESIGN.md: "where the binaries share output code, it
//! lives in one library module, not three copies"): categorised labels for flows and hosts,
//! the output tables as typed cells, CSV/JSON/JSON Lines writers that neutralise spreadsheet
//! formulas, the grouped terminal table, and `summary.json`.

pub mod baseline;
pub mod diff;
pub mod diffout;
pub mod input;
pub mod label;
pub mod sanitize;
pub mod summary;
pub mod tables;
pub mod term;
pub mod write;

pub use label::{Label, Labeller, Labels};
pub use tables::{Cell, Table};
pub use write::{write_tables, Format, WriteOptions};

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing failed.
    #[error("write: {0}")]
    Io(#[from] std::io::Error),
    /// CSV encoding failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// JSON encoding failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A capture could not be read.
    #[error("{0}")]
    Capture(#[from] phonehome_decode::CaptureError),
}
