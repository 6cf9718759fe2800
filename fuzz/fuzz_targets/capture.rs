//! Fuzz target `capture`: see `phonehome_fuzzing::capture`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::capture(data));
