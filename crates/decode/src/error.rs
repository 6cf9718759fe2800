//! Errors and warnings of capture reading.

use std::fmt;

/// A capture could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The capture's name as the user gave it.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The first bytes are not a capture format this crate reads.
    #[error("{file}: not a pcap or pcapng capture: {format} (first bytes {magic})")]
    UnknownFormat {
        /// The capture's name as the user gave it.
        file: String,
        /// What the first bytes look like (e.g. "Solaris snoop file", "empty file").
        format: String,
        /// The first bytes, in hexadecimal.
        magic: String,
    },
    /// The format was recognised but its file header is unusable.
    #[error("{file}: byte offset {offset}: bad {format} file header: {reason}")]
    BadHeader {
        /// The capture's name as the user gave it.
        file: String,
        /// The format recognised from the magic number.
        format: &'static str,
        /// Byte offset of the header.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl CaptureError {
    /// Builds an I/O error for `path`.
    pub fn io(file: impl Into<String>, source: std::io::Error) -> Self {
        CaptureError::Io {
            file: file.into(),
            source,
        }
    }
}

/// What kind of damage a [`Warning`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WarningKind {
    /// The capture ends in the middle of a record header or record body.
    TruncatedRecord,
    /// A record claims a length that is impossible or beyond the configured limit.
    BadRecordLength,
    /// A pcapng block could not be parsed.
    MalformedBlock,
    /// A packet refers to a pcapng interface that was never described.
    UnknownInterface,
    /// A pcapng section uses an unsupported version or byte-order mark.
    BadSection,
    /// Reading or decompressing the input failed part-way.
    ReadError,
    /// A well-formed pcapng block larger than the configured limit (`--max-block`) was
    /// skipped; reading went on after it. Warned once per capture, every one counted in
    /// [`crate::ReadStats::oversized_blocks`].
    OversizedBlock,
}

impl WarningKind {
    /// A short stable name, for summaries and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::TruncatedRecord => "truncated-record",
            WarningKind::BadRecordLength => "bad-record-length",
            WarningKind::MalformedBlock => "malformed-block",
            WarningKind::UnknownInterface => "unknown-interface",
            WarningKind::BadSection => "bad-section",
            WarningKind::ReadError => "read-error",
            WarningKind::OversizedBlock => "oversized-block",
        }
    }
}

/// A non-fatal problem met while reading a capture; everything before it was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The capture's name as the user gave it.
    pub file: String,
    /// Byte offset of the problem in the (decompressed) capture stream.
    pub offset: u64,
    /// Whether `offset` counts decompressed bytes (gzip/zstd input).
    pub decompressed: bool,
    /// What kind of problem.
    pub kind: WarningKind,
    /// A one-line human explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of = if self.decompressed {
            " of the decompressed stream"
        } else {
            ""
        };
        write!(
            f,
            "{}: byte offset {}{}: {}",
            self.file, self.offset, of, self.message
        )
    }
}

/// Turns a path into the name used in messages.
pub(crate) fn display_name(path: &std::path::Path) -> String {
    if path == std::path::Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}
