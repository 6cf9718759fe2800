//! Fuzz target `dhcp`: see `phonehome_fuzzing::dhcp_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::dhcp_message(data));
