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
