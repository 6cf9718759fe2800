//! Fuzz target `quic`: see `phonehome_fuzzing::quic_initial`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::quic_initial(data));
