//! Reading one input as the extractor's tables: a capture (extracted on the fly) or an output
//! folder of `phonehome-extract -o` (or the `summary.json` inside one). The diff and the baseline
//! read both alike, so a capture and its extracted folder give the same answer.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Flows per application (`flows.csv`'s `app` column; empty when none was recognised).
    /// Only this is kept of the flows, so that memory follows hosts, not flows.
    pub apps: BTreeMap<String, u64>,
    /// `fingerprints.csv` rows.
    pub fingerprints: Rows,
    /// Distinct JA4 fingerprints of the TLS ClientHellos (`tls.csv`'s `ja4` column).
    pub ja4: BTreeSet<String>,
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

/// The values of column `col` of a CSV file, streamed to `each` (empty when the column is
/// missing).
fn each_value(path: &Path, col: &str, mut each: impl FnMut(&str)) -> Result<(), ReportError> {
    let mut r = csv::Reader::from_path(path)?;
    let i = r.headers()?.iter().position(|h| h == col);
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec)? {
        each(i.and_then(|i| rec.get(i)).unwrap_or(""));
    }
    Ok(())
}

/// Counts one more of `key`, allocating only for a key not seen yet.
fn count(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
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
        let mut apps = BTreeMap::new();
        each_value(&dir.join("flows.csv"), "app", |a| count(&mut apps, a))?;
        let mut ja4 = BTreeSet::new();
        each_value(&dir.join("tls.csv"), "ja4", |j| {
            if !j.is_empty() && !ja4.contains(j) {
                ja4.insert(j.to_string());
            }
        })?;
        return Ok(Tables {
            hosts: read_csv(&dir.join("hosts.csv"))?,
            apps,
            fingerprints: read_csv(&dir.join("fingerprints.csv"))?,
            ja4,
            local_names,
            warnings: Vec::new(),
        });
    }
    let mut reader = CaptureReader::open(path)?;
    let summary = analyze(&mut reader, Config::default(), |_, _| {});
    let labels = labeller.label(&summary);
    let order = host_order(&summary, &labels, SortBy::FirstSeen);
    let mut apps = BTreeMap::new();
    for f in summary.flow_iter() {
        count(&mut apps, f.app.unwrap_or(""));
    }
    let ja4 = summary
        .tls_rows()
        .filter(|t| !t.ja4.is_empty())
        .map(|t| t.ja4.clone())
        .collect();
    Ok(Tables {
        hosts: text_rows(&tables::hosts(&summary, &labels, &order)),
        apps,
        fingerprints: text_rows(&tables::fingerprints(&summary, &labels)),
        ja4,
        local_names: summary
            .local_names
            .iter()
            .map(|n| format!("{} {}", n.name, n.source))
            .collect(),
        warnings: reader.warnings().iter().map(|w| w.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonehome_domains::{Rules, Vendor};

    /// What the diff and the baseline keep of the flows and TLS rows (app counts, JA4 set) is
    /// what the full tables say.
    #[test]
    fn apps_and_ja4_summarise_the_full_tables() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/samples/macos-catalina-install.pcap");
        let labeller = Labeller::new(Rules::builtin(), Vendor::new("apple"));
        let t = read(&path, &labeller).expect("sample reads");
        let mut reader = CaptureReader::open(&path).unwrap();
        let summary = analyze(&mut reader, Config::default(), |_, _| {});
        let flows = text_rows(&tables::flows(&summary, &labeller));
        let mut apps: BTreeMap<String, u64> = BTreeMap::new();
        for f in &flows {
            *apps.entry(f["app"].clone()).or_default() += 1;
        }
        let ja4: BTreeSet<String> = text_rows(&tables::tls(&summary))
            .into_iter()
            .map(|r| r["ja4"].clone())
            .filter(|j| !j.is_empty())
            .collect();
        assert!(flows.len() > 100 && apps.len() > 3 && !ja4.is_empty());
        assert_eq!(t.apps, apps);
        assert_eq!(t.ja4, ja4);
    }
}
