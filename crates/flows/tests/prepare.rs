//! The reading thread's share of the work (`FramePrep`, DNS facts made ahead) changes nothing:
//! a capture analysed with every frame prepared, with some frames prepared, or with none gives
//! the same summary. The analysing thread uses a prepared frame's facts instead of dissecting
//! it, so each DNS, mDNS and LLMNR message below goes through both paths.

use std::path::{Path, PathBuf};

use phonehome_decode::{CaptureReader, Prepare};
use phonehome_flows::dnsfacts::FactText;
use phonehome_flows::prepare::FramePrep;
use phonehome_flows::{Analyzer, CaptureSummary, Config};

/// Which frames come prepared.
#[derive(Clone, Copy, Debug)]
enum Mode {
    None,
    All,
    /// Every other frame, the text kept over several frames as in a batch.
    Some,
}

fn summarize(name: &str, bytes: &[u8], mode: Mode) -> CaptureSummary {
    let mut reader = CaptureReader::from_bytes(name, bytes.to_vec()).expect("opens");
    let cfg = Config {
        // In memory: spilled summaries compare equal only to themselves.
        spill_after: None,
        max_rows: 5_000,
        ..Config::default()
    };
    let mut a = Analyzer::new(cfg);
    let mut text = FactText::default();
    let mut n = 0u64;
    while let Some(frame) = reader.next_frame() {
        n += 1;
        if n % 16 == 0 {
            // A new batch: the text of the last one is gone.
            FramePrep.clear(&mut text);
        }
        let prepared = match mode {
            Mode::None => None,
            Mode::All => FramePrep.prepare(&frame, &mut text),
            Mode::Some if n % 2 == 0 => FramePrep.prepare(&frame, &mut text),
            Mode::Some => None,
        };
        a.feed_prepared(&frame, prepared, &mut text);
    }
    let counters = phonehome_flows::Counters {
        frames: reader.stats().frames,
        ..Default::default()
    };
    let source = phonehome_flows::Source {
        file: name.to_string(),
        format: "pcap".into(),
        compression: "none".into(),
        warnings: Vec::new(),
    };
    a.finish_capture(source, counters)
}

fn check(name: &str, bytes: &[u8]) -> usize {
    let plain = summarize(name, bytes, Mode::None);
    for mode in [Mode::All, Mode::Some] {
        let other = summarize(name, bytes, mode);
        assert!(
            plain == other,
            "{name}: {mode:?} differs from no preparation"
        );
    }
    plain.dns_rows().count()
}

#[test]
fn prepared_dns_facts_give_the_same_summary() {
    // Lookups with CNAME chains, past the row limit (5,000) on purpose.
    let mut bytes = Vec::new();
    phonehome_synth::stress::dns_lookups(4_000, 20, &mut bytes).unwrap();
    assert_eq!(check("lookups.pcap", &bytes), 5_000);
    let root = phonehome_testkit::workspace_root();
    let mut rows = 0;
    for s in [
        "macos-catalina-firstboot.pcap",
        "macos-catalina-install.pcap",
        "handmade.pcap",
    ] {
        let p = root.join("data/samples").join(s);
        rows += check(s, &std::fs::read(&p).unwrap());
    }
    assert!(rows > 20, "{rows} DNS rows in the samples");
}

/// Every corpus capture whose name says DNS, and some with much mDNS or LLMNR: odd names,
/// malformed messages, compression loops, multicast announcements.
#[test]
fn prepared_dns_facts_give_the_same_summary_on_the_corpus() {
    let Some(corpus) = phonehome_testkit::corpus() else {
        return;
    };
    let files: Vec<PathBuf> = phonehome_testkit::files_below(&corpus)
        .into_iter()
        .filter(|p| phonehome_testkit::is_capture(p))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let local = [
                "1kxun.pcap",
                "gnutella.pcap",
                "wechat.pcap",
                "telegram.pcap",
            ];
            name.contains("dns") || name.contains("netbios") || local.contains(&name)
        })
        .collect();
    assert!(files.len() >= 30, "{} DNS captures", files.len());
    let rows: usize = files
        .iter()
        .map(|p: &PathBuf| {
            let name = phonehome_testkit::relative(p, Path::new(&corpus));
            check(&name, &std::fs::read(p).unwrap())
        })
        .sum();
    assert!(rows > 500, "{rows} DNS rows");
}
