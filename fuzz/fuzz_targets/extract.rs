//! Fuzz target `extract`: see `phonehome_fuzzing::extract`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::extract(data));
