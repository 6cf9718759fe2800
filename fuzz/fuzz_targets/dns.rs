//! Fuzz target `dns`: see `phonehome_fuzzing::dns_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::dns_message(data));
