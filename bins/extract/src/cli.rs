//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Who did this machine talk to? Reads packet captures (pcap, pcapng, gzip or zstd compressed,
/// `-` for stdin) and reports hosts, connections, bytes each way and first contact, grouped
/// vendor / third-party / local / unknown.
///
/// Without -o, prints the host table. With -o DIR, writes flows, hosts, dns, tls and http tables
/// plus summary.json per capture.
///
/// Exit status: 0 all good; 1 some captures had warnings (damage, truncation) but output was
/// written; 2 an error (unreadable file, bad arguments) — other captures still run.
#[derive(Debug, Parser)]
#[command(name = "phonehome-extract", version, max_term_width = 100)]
pub struct Args {
    /// Capture files, directories (searched recursively for *.pcap, *.pcapng, *.cap, *.gz and
    /// *.zst), or - for stdin.
    #[arg(value_name = "CAPTURE", required_unless_present = "explain")]
    pub captures: Vec<PathBuf>,

    /// Write the tables into DIR (one capture: DIR itself; several: DIR/<capture name>/).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// With -o and several captures: one set of tables with a `capture` column.
    #[arg(long, requires = "output")]
    pub combined: bool,

    /// Format of the machine-readable tables. Without -o, prints the host table in this format
    /// to stdout instead of the terminal table.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Show at most N hosts per group in the terminal table (totals still count all).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// Order of hosts within each group (and of hosts.csv).
    #[arg(long, value_enum, default_value_t = SortArg::FirstSeen)]
    pub sort: SortArg,

    /// Only packets at least SECS seconds after the capture's first packet.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub since: Option<f64>,

    /// Only packets at most SECS seconds after the capture's first packet ("the first few
    /// minutes": --until 300).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub until: Option<f64>,

    /// Worker threads (default: all cores). Several captures are extracted side by side; with
    /// fewer captures than threads, each capture is also read on a thread of its own beside
    /// its analysis. The output is the same whatever the count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// No progress bar and no per-capture notes on stderr (warnings and errors still print).
    #[arg(short, long)]
    pub quiet: bool,

    /// Write CSV cells exactly as captured, without neutralising cells that start with
    /// = + - @ tab or CR (spreadsheet formula injection).
    #[arg(long)]
    pub raw_csv: bool,

    /// Vendor under study: its services are first-party (apple, microsoft, google).
    #[arg(long, default_value = "apple", value_name = "VENDOR")]
    pub vendor: String,

    /// Extra rules file (same format as data/domains.toml; see docs/rules.md); repeatable,
    /// later files override earlier ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// Guess operating systems from SYN signatures with this p0f database (p0f.fp; Debian's
    /// p0f package installs /etc/p0f/p0f.fp) instead of data/syn-signatures.toml.
    #[arg(long, value_name = "FILE")]
    pub p0f_db: Option<PathBuf>,

    /// Print which rules match HOST and why, then exit.
    #[arg(long, value_name = "HOST")]
    pub explain: Option<String>,

    /// TCP inactivity timeout, seconds (Zeek's default).
    #[arg(long, default_value_t = 300.0, value_name = "SECS", value_parser = seconds)]
    pub tcp_idle: f64,

    /// UDP inactivity timeout, seconds (Zeek's default).
    #[arg(long, default_value_t = 60.0, value_name = "SECS", value_parser = seconds)]
    pub udp_idle: f64,

    /// Split flows longer than SECS into several (off by default).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub active_timeout: Option<f64>,

    /// Most flows alive at once; beyond it the least recently active are finished early
    /// (counted in summary.json `limits`). Bounds memory on scans and floods.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_flows: usize,

    /// Most client bytes reassembled per flow to find a ClientHello, HTTP request or DNS
    /// message split over segments (TCP) or Initials (QUIC).
    #[arg(long, default_value_t = 16 * 1024, value_name = "BYTES")]
    pub max_stream_bytes: usize,

    /// Most reassembly bytes held over all live flows; beyond it the oldest buffers are
    /// dissected with what they hold and released (counted in summary.json `limits`).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_reassembly_bytes: usize,

    /// Most server addresses the DNS name table remembers; beyond it the address learnt first
    /// is forgotten (counted). Bounds memory on DNS floods.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_dns_addresses: usize,

    /// Most DNS answers remembered per address (the newest win).
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub names_per_address: usize,

    /// Most rows kept per capture in each of dns.csv, tls.csv and http.csv; further ones are
    /// counted in summary.json `limits`, not kept.
    #[arg(long, default_value_t = phonehome_flows::dissect::MAX_ROWS, value_name = "N")]
    pub max_rows: usize,

    /// Finished flows (and DNS, TLS, HTTP rows, each kind) held in memory before they are
    /// written, sorted, to a temporary file (0: never). Keeps memory proportional to the live flows on scans and long captures; the
    /// output is the same either way.
    #[arg(long, default_value_t = phonehome_flows::analyzer::DEFAULT_SPILL_AFTER, value_name = "N")]
    pub spill_after: usize,

    /// Largest pcap record or pcapng block read, in bytes. A larger pcapng block is skipped
    /// (counted, warned once); a larger pcap record ends the read (its length is damage).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_block: usize,

    /// Replace output files that already exist (otherwise they are an error).
    #[arg(long)]
    pub force: bool,

    /// Colour in the terminal table: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// A finite, non-negative number of seconds.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds (finite, 0 or more)"
        )),
    }
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values.
    Csv,
    /// A JSON array per table.
    Json,
    /// JSON Lines.
    Jsonl,
}

/// `--sort`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    /// Most connections first.
    Connections,
    /// Most bytes first.
    Bytes,
    /// First contacted first.
    FirstSeen,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// On a terminal without NO_COLOR.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
