# phonehome recipes. Install just with `cargo install just`; every recipe is a plain command
# that also works without it.

# Run the whole test suite (what CI runs).
test:
    cargo test --workspace

# Format the code.
fmt:
    cargo fmt --all

# Lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Benchmarks: decoding throughput beside `cat` and tshark (see docs/benchmarks.md).
bench:
    bash scripts/bench-decode.sh

# Print a decode summary of a capture (the extractor replaces this once it lands).
summary CAPTURE="data/samples/handmade.pcap":
    cargo run -q --release -p phonehome-decode --example summary -- {{CAPTURE}}
