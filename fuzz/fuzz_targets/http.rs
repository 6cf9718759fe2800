//! Fuzz target `http`: see `phonehome_fuzzing::http_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| phonehome_fuzzing::http_request(data));
