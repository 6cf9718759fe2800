//! Fuzz target `packet`: see `phonehome_fuzzing::packet`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::packet(data));
