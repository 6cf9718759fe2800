//! Fuzz target `tls`: see `phonehome_fuzzing::tls_client_hello`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::tls_client_hello(data));
