//! Every corpus capture, damaged: randomly truncated and with random bytes flipped (fixed seed),
//! must still be read, decoded and dissected without a panic or a hang, keeping what it can.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use phonehome_decode::{app, decode, CaptureReader};

/// xorshift64*: a fixed-seed generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

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
            let mut b = orig.clone();
            // Flip a few bytes: past the file header most of the time, in it sometimes.
            for _ in 0..1 + rng.below(8) {
                if b.is_empty() {
                    break;
                }
                let at = if rng.below(8) == 0 {
                    rng.below(b.len().min(64))
                } else {
                    rng.below(b.len())
                };
                b[at] ^= 1 << rng.below(8);
            }
            if round % 2 == 1 {
                let cut = rng.below(b.len() + 1);
                b.truncate(cut);
            }
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
