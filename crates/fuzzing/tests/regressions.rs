//! Replays every saved fuzz reproducer (`fuzz/regressions/<target>/*`) through its target, so
//! that a crash, hang or runaway allocation once found stays fixed. Named tests for each fixed
//! crash follow, each with the input inline.

use std::path::Path;
use std::time::{Duration, Instant};

use phonehome_fuzzing::TARGETS;

#[test]
fn every_saved_reproducer_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for (name, run) in TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let bytes = std::fs::read(&f).unwrap();
            let t = Instant::now();
            run(&bytes);
            // A hang shows as a slow replay (generous, for debug builds on a busy machine).
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{} took {:?}",
                f.display(),
                t.elapsed()
            );
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} reproducers");
}

/// Every corpus capture of up to 1 MiB, truncated and byte-flipped (fixed seed), through the
/// whole pipeline the `extract` target runs: reading, flows, labels, every table as CSV and
/// JSON, and no formula-like CSV cell. A panic names the file and the mutation round.
#[test]
fn damaged_corpus_captures_go_through_the_whole_pipeline() {
    use phonehome_testkit::mutate::{mutant, Rng};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let Some(corpus) = phonehome_testkit::corpus() else {
        return;
    };
    let mut files: Vec<_> = phonehome_testkit::files_below(&corpus)
        .into_iter()
        .filter(|p| phonehome_testkit::is_capture(p))
        .collect();
    files.sort();
    let mut rng = Rng(0x005e_ed0f_f1a9);
    let (mut runs, mut failures) = (0, Vec::new());
    for f in &files {
        let Ok(orig) = std::fs::read(f) else { continue };
        if orig.len() > 1 << 20 {
            continue;
        }
        for round in 0..2 {
            let b = mutant(&orig, round, &mut rng);
            runs += 1;
            if catch_unwind(AssertUnwindSafe(|| phonehome_fuzzing::extract(&b))).is_err() {
                failures.push(format!("{} round {round}", f.display()));
            }
        }
    }
    eprintln!("{runs} damaged captures through the whole pipeline");
    assert!(runs > 500, "{runs}");
    assert!(failures.is_empty(), "{failures:#?}");
}
