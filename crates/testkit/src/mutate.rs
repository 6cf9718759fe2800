//! Damaged copies of captures for no-panic tests: a fixed-seed generator flips a few bits (in
//! the file header sometimes, past it mostly) and truncates every other copy at a random point,
//! so that a failure reproduces.

/// xorshift64*: small, fast, and the same sequence on every machine.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The `round`-th damaged copy of `orig`: 1 to 8 bit flips (one in eight within the first 64
/// bytes), and for odd rounds a truncation at a random point.
pub fn mutant(orig: &[u8], round: usize, rng: &mut Rng) -> Vec<u8> {
    let mut b = orig.to_vec();
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
    b
}
