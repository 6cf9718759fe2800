//! `summary.json`: the capture at a glance, with totals per category and every warning.

use serde_json::{json, Value};

use phonehome_flows::CaptureSummary;

use crate::label::Labels;

/// Versions stamped into the summary.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// phonehome's version.
    pub tool_version: String,
    /// The rules file's `as_of` date (plus `+user` when user rules were added).
    pub rules_version: String,
    /// Vendor under study.
    pub vendor: String,
}

/// Builds the summary object for one capture (or a merged summary).
pub fn summary_json(s: &CaptureSummary, labels: &Labels, stamp: &Stamp) -> Value {
    let c = &s.counters;
    let link_types: serde_json::Map<String, Value> = c
        .link_types
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let categories: serde_json::Map<String, Value> = labels
        .category_totals(s)
        .into_iter()
        .map(|(cat, t)| {
            (
                cat.as_str().to_string(),
                json!({"hosts": t[0], "connections": t[1], "ip_bytes_down": t[2], "ip_bytes_up": t[3]}),
            )
        })
        .collect();
    let warnings: Vec<Value> = s
        .sources
        .iter()
        .flat_map(|src| src.warnings.iter())
        .map(|w| {
            json!({
                "file": w.file,
                "offset": w.offset,
                "offset_in_decompressed_stream": w.decompressed,
                "kind": w.kind.as_str(),
                "message": w.message,
            })
        })
        .collect();
    let files: Vec<&str> = s.sources.iter().map(|x| x.file.as_str()).collect();
    let formats: Vec<&str> = s.sources.iter().map(|x| x.format.as_str()).collect();
    let f = c.fragments.0;
    json!({
        "file": files.join(", "),
        "format": formats.first().copied().unwrap_or(""),
        "compression": s.sources.first().map_or("", |x| x.compression.as_str()),
        "link_types": link_types,
        "packets": c.frames,
        "bytes": c.captured_bytes,
        "wire_bytes": c.wire_bytes,
        "ip_packets": c.packets,
        "undecoded": c.undecoded,
        "filtered": c.filtered,
        "fragments": {
            "fragments": f.fragments,
            "reassembled": f.reassembled,
            "abandoned": f.abandoned,
            "abandoned_fragments": f.abandoned_fragments,
            "abandoned_ip_bytes": f.abandoned_ip_bytes,
            "counted_partial": f.counted_partial,
        },
        "limits": {
            "dropped_rows": c.dropped_rows,
            "dns_addresses_evicted": c.evicted_name_addresses,
            "reassembly_buffers_released": c.evicted_streams,
            "oversized_blocks_skipped": c.oversized_blocks,
            "flows_finished_early": c.shed_flows,
            "records_spilled_to_disk": c.spilled_flows,
        },
        "first_ts": s.first_ts.map(|t| t.to_string()),
        "last_ts": s.last_ts.map(|t| t.to_string()),
        "duration_s": (s.duration_s() * 1e6).round() / 1e6,
        "flows": s.flow_count(),
        "hosts": s.hosts.len(),
        "dns_messages": s.dns_count(),
        "tls_client_hellos": s.tls_count(),
        "http_requests": s.http_count(),
        "categories": categories,
        "local_names": s.local_names.iter().map(|n| json!({
            "name": n.name, "address": n.address.map(|a| a.to_string()), "source": n.source
        })).collect::<Vec<_>>(),
        "warnings": warnings,
        "vendor": stamp.vendor,
        "tool_version": stamp.tool_version,
        "rules_version": stamp.rules_version,
    })
}
