//! Fuzz target `ntp`: see `phonehome_fuzzing::ntp_packet`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::ntp_packet(data));
