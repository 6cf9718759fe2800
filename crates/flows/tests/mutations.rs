//! Damaged corpus captures through the whole flow layer (defragmentation, stream reassembly,
//! dissectors, name table, aggregation): no panic, and the summary keeps what could be read.

use std::panic::{catch_unwind, AssertUnwindSafe};

use phonehome_decode::CaptureReader;
use phonehome_flows::{analyze, Config};
use phonehome_testkit::mutate::{mutant, Rng};
use phonehome_testkit::{corpus, files_below, is_capture};

#[test]
fn damaged_corpus_captures_never_panic_the_flow_layer() {
    let Some(corpus) = corpus() else { return };
    let files: Vec<_> = files_below(&corpus)
        .into_iter()
        .filter(|p| is_capture(p))
        .collect();
    let mut rng = Rng(0x0f10_3500_dead_beef);
    let (mut mutants, mut failures, mut flows) = (0usize, Vec::new(), 0usize);
    for f in &files {
        let Ok(orig) = std::fs::read(f) else { continue };
        if orig.len() > 2 << 20 {
            continue;
        }
        for round in 0..4 {
            let b = mutant(&orig, round, &mut rng);
            mutants += 1;
            let run = || {
                let Ok(mut r) = CaptureReader::from_bytes("mutant", b) else {
                    return 0;
                };
                let s = analyze(&mut r, Config::default(), |_, _| {});
                // Ids stay dense and unique whatever the damage.
                assert_eq!(
                    s.flows.iter().map(|f| f.id).max().unwrap_or(0) as usize,
                    s.flows.len()
                );
                s.flows.len()
            };
            match catch_unwind(AssertUnwindSafe(run)) {
                Ok(n) => flows += n,
                Err(_) => failures.push(format!("{} round {round}", f.display())),
            }
        }
    }
    println!(
        "{mutants} mutants of {} captures through the flow layer: {flows} flows",
        files.len()
    );
    assert!(mutants > 5_000, "{mutants}");
    // Measured: 38,044 flows (half the mutants are truncated).
    assert!(
        flows > 30_000,
        "{flows} flows: were the mutants mostly unreadable?"
    );
    assert!(failures.is_empty(), "panics:\n{}", failures.join("\n"));
}
