//! Fuzz target `rules`: see `phonehome_fuzzing::rules_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::rules_file(data));
