//! Packet timestamps.

use std::fmt;

/// A packet timestamp: seconds since the Unix epoch plus nanoseconds, as the capture gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// Builds a timestamp from seconds and a fraction counted in `units_per_sec`, normalising
    /// a fraction of a second or more into the seconds.
    #[inline]
    pub fn from_fraction(secs: i64, frac: u64, units_per_sec: u64) -> Timestamp {
        let units = units_per_sec.max(1);
        // The common case (once per frame): a fraction below one second in units that divide
        // a second into nanoseconds exactly (micro- and nanosecond pcap) needs no division.
        let per_unit = match units {
            1_000_000_000 => 1,
            1_000_000 => 1_000,
            1_000 => 1_000_000,
            _ => 0,
        };
        if per_unit != 0 && frac < units {
            return Timestamp {
                secs,
                nanos: (frac * per_unit) as u32,
            };
        }
        // A hostile fraction (2^63 or more units) saturates instead of wrapping negative.
        let carry = i64::try_from(frac / units).unwrap_or(i64::MAX);
        let rem = frac % units;
        let nanos = (u128::from(rem) * 1_000_000_000 / u128::from(units)) as u32;
        Timestamp {
            secs: secs.saturating_add(carry),
            nanos,
        }
    }

    /// Seconds as a float (for relative times).
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// Seconds from `earlier` to `self` (negative if `self` is earlier).
    pub fn since(self, earlier: Timestamp) -> f64 {
        (i128::from(self.secs) - i128::from(earlier.secs)) as f64
            + (f64::from(self.nanos) - f64::from(earlier.nanos)) / 1e9
    }

    /// Nanoseconds since the epoch, saturating (enough for ±292 years around 1970).
    pub fn as_nanos(self) -> i64 {
        self.secs
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(self.nanos))
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2019-10-15T18:04:05.123456Z`.
    pub fn rfc3339(self) -> String {
        self.to_string()
    }
}

impl Timestamp {
    /// The RFC 3339 text of [`Display`](fmt::Display) as bytes, without the formatting
    /// machinery (output rows write millions of them).
    /// Times outside the years 0000–9999 (only a damaged or hostile capture has them) are
    /// clamped to that range so that the text stays RFC 3339.
    pub fn rfc3339_bytes(self) -> [u8; 27] {
        const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        let (secs, nanos) = if self.secs < MIN {
            (MIN, 0)
        } else if self.secs > MAX {
            (MAX, 999_999_999)
        } else {
            (self.secs, self.nanos)
        };
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut b = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut v: u64| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, y.clamp(0, 9999) as u64);
        put(5, 2, u64::from(m));
        put(8, 2, u64::from(d));
        put(11, 2, (sod / 3600) as u64);
        put(14, 2, ((sod / 60) % 60) as u64);
        put(17, 2, (sod % 60) as u64);
        put(20, 6, u64::from(nanos / 1000));
        b
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339, UTC, microsecond precision (see [`Timestamp::rfc3339_bytes`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.rfc3339_bytes();
        f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_fraction_path_matches_the_general_one() {
        let general = |frac: u64, units: u64| {
            let nanos = (u128::from(frac % units) * 1_000_000_000 / u128::from(units)) as u32;
            Timestamp {
                secs: 7 + (frac / units) as i64,
                nanos,
            }
        };
        for units in [1_000u64, 1_000_000, 1_000_000_000] {
            for frac in [
                0,
                1,
                999,
                units / 2,
                units - 1,
                units,
                units + 1,
                3 * units + 5,
            ] {
                assert_eq!(
                    Timestamp::from_fraction(7, frac, units),
                    general(frac, units)
                );
            }
        }
    }

    #[test]
    fn formats_rfc3339() {
        let t = Timestamp {
            secs: 1_571_162_645,
            nanos: 123_456_789,
        };
        assert_eq!(t.to_string(), "2019-10-15T18:04:05.123456Z");
        assert_eq!(
            Timestamp::default().to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
        let before = Timestamp { secs: -1, nanos: 0 };
        assert_eq!(before.to_string(), "1969-12-31T23:59:59.000000Z");
    }

    #[test]
    fn hostile_times_neither_wrap_nor_leave_rfc3339() {
        let t = Timestamp::from_fraction(0, u64::MAX, 1);
        assert_eq!(t.secs, i64::MAX);
        assert_eq!(t.to_string(), "9999-12-31T23:59:59.999999Z");
        let early = Timestamp {
            secs: i64::MIN,
            nanos: 0,
        };
        assert_eq!(early.to_string(), "0000-01-01T00:00:00.000000Z");
        assert!(t.since(early) > 1e18);
    }

    #[test]
    fn fractions_normalise() {
        assert_eq!(
            Timestamp::from_fraction(5, 1_500_000, 1_000_000),
            Timestamp {
                secs: 6,
                nanos: 500_000_000
            }
        );
        assert_eq!(
            Timestamp::from_fraction(5, 7, 1_000_000_000),
            Timestamp { secs: 5, nanos: 7 }
        );
        assert_eq!(
            Timestamp::from_fraction(0, 1, 2),
            Timestamp {
                secs: 0,
                nanos: 500_000_000
            }
        );
        // A zero resolution never divides by zero.
        assert_eq!(Timestamp::from_fraction(0, 3, 0).secs, 3);
        let a = Timestamp {
            secs: 10,
            nanos: 250_000_000,
        };
        let b = Timestamp {
            secs: 9,
            nanos: 750_000_000,
        };
        assert!((a.since(b) - 0.5).abs() < 1e-9);
    }
}
