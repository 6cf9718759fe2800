//! Progress on stderr: one indicatif bar over the bytes of all captures, shown only when stderr
//! is a terminal and --quiet is not given.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar (or nothing).
pub struct Bar {
    bar: Option<ProgressBar>,
}

/// Progress of one capture.
pub struct Handle<'a> {
    bar: Option<&'a ProgressBar>,
    last: Arc<AtomicU64>,
    started: Instant,
    name: String,
}

impl Bar {
    /// A bar over the sizes of `paths` when `show`, else nothing.
    pub fn new(show: bool, paths: &[PathBuf]) -> Bar {
        if !show {
            return Bar { bar: None };
        }
        let total: u64 = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar { bar: Some(bar) }
    }

    /// Starts a capture.
    pub fn start(&self, path: &Path) -> Handle<'_> {
        let name = path
            .file_name()
            .map(|n| phonehome_report::sanitize::terminal(&n.to_string_lossy()).into_owned())
            .unwrap_or_default();
        if let Some(b) = &self.bar {
            b.set_message(name.clone());
        }
        Handle {
            bar: self.bar.as_ref(),
            last: Arc::new(AtomicU64::new(0)),
            started: Instant::now(),
            name,
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Handle<'_> {
    /// `bytes` and `frames` of this capture read so far (compressed input counts decompressed bytes, so the
    /// bar may pass its total; it is a hint).
    pub fn set(&self, bytes: u64, frames: u64) {
        if let Some(b) = self.bar {
            let prev = self.last.swap(bytes, Ordering::Relaxed);
            b.inc(bytes.saturating_sub(prev));
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{} {:.0} packets/s",
                self.name,
                frames as f64 / secs
            ));
        }
    }

    /// This capture is finished.
    pub fn done(&self) {}
}
