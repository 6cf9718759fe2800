//! Reading one input as the extractor's tables: a capture (extracted on the fly) or an output
//! folder of `phonehome-extract -o` (or the `summary.json` inside one). The diff and the baseline
//! read both alike, so a capture and its extracted folder give the same answer.

use std::path::{Path, PathBuf};

use phonehome_decode::CaptureReader;
use phonehome_flows::{analyze, Config};

use crate::diff::Rows;
use crate::label::Labeller;
use crate::tables;
use crate::term::{host_order, SortBy};
use crate::write::text_rows;
use crate::ReportError;

/// One input's tables.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `hosts.csv` rows.
    pub hosts: Rows,
    /// `flows.csv` rows.
    pub flows: Rows,
    /// `fingerprints.csv` rows.
    pub fingerprints: Rows,
    /// `tls.csv` rows.
    pub tls: Rows,
    /// Local names as `name source`.
    pub local_names: Vec<String>,
    /// Read warnings (damaged captures), as text.
    pub warnings: Vec<String>,
}

/// The folder an input names, when it is an extractor output (a folder, or its summary.json).
fn output_folder(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        Some(path.to_path_buf())
    } else if path.file_name().is_some_and(|n| n == "summary.json") {
        path.parent().map(Path::to_path_buf)
    } else {
        None
    }
}

fn read_csv(path: &Path) -> Result<Rows, ReportError> {
    let mut r = csv::Reader::from_path(path)?;
    let head = r.headers()?.clone();
    let mut rows = Rows::new();
    for rec in r.records() {
        let rec = rec?;
        rows.push(
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

/// Reads `path` as tables.
pub fn read(path: &Path, labeller: &Labeller<'_>) -> Result<Tables, ReportError> {
    if let Some(dir) = output_folder(path) {
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json"))?)?;
        let local_names = summary["local_names"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        format!(
                            "{} {}",
                            n["name"].as_str().unwrap_or(""),
                            n["source"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Ok(Tables {
            hosts: read_csv(&dir.join("hosts.csv"))?,
            flows: read_csv(&dir.join("flows.csv"))?,
            fingerprints: read_csv(&dir.join("fingerprints.csv"))?,
            tls: read_csv(&dir.join("tls.csv"))?,
            local_names,
            warnings: Vec::new(),
        });
    }
    let mut reader = CaptureReader::open(path)?;
    let summary = analyze(&mut reader, Config::default(), |_, _| {});
    let labels = labeller.label(&summary);
    let order = host_order(&summary, &labels, SortBy::FirstSeen);
    let flows = text_rows(&tables::flows(&summary, labeller));
    let tls = text_rows(&tables::tls(&summary));
    Ok(Tables {
        hosts: text_rows(&tables::hosts(&summary, &labels, &order)),
        flows,
        fingerprints: text_rows(&tables::fingerprints(&summary, &labels)),
        tls,
        local_names: summary
            .local_names
            .iter()
            .map(|n| format!("{} {}", n.name, n.source))
            .collect(),
        warnings: reader.warnings().iter().map(|w| w.to_string()).collect(),
    })
}
