//! Every corpus capture, damaged: randomly truncated and with random bytes flipped (fixed seed),
//! must still be read, decoded and dissected without a panic or a hang, keeping what it can.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use phonehome_decode::{app, decode, CaptureReader};
use phonehome_testkit::mutate::{mutant, Rng};

fn read_all(bytes: Vec<u8>) -> u64 {
    let Ok(mut r) = CaptureReader::from_bytes("mutant", bytes) else {
        return 0;
    };
    let mut n = 0;
    while let Some(f) = r.next_frame() {
        if let Ok(p) = decode(&f) {
            n += u64::from(app::dissect(&p).is_some());
        }
    }
    n + r.stats().frames
}

#[test]
fn damaged_corpus_captures_never_panic() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let files: Vec<_> = common::files_below(&corpus)
        .into_iter()
        .filter(|p| common::is_capture(p))
        .collect();
    let mut rng = Rng(0x005e_ed0f_9407_e11e);
    let mut mutants = 0usize;
    let mut failures = Vec::new();
    for f in &files {
        let Ok(orig) = std::fs::read(f) else { continue };
        if orig.len() > 4 << 20 {
            continue; // the few large captures add time, not new shapes
        }
        for round in 0..16 {
            let b = mutant(&orig, round, &mut rng);
            mutants += 1;
            if catch_unwind(AssertUnwindSafe(|| read_all(b))).is_err() {
                failures.push(format!("{} round {round}", f.display()));
            }
        }
    }
    println!("{mutants} mutants of {} captures read", files.len());
    assert!(mutants > 20_000, "{mutants}");
    assert!(
        failures.is_empty(),
        "panics on damaged captures:\n{}",
        failures.join("\n")
    );
}
