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

# Benchmarks (docs/benchmarks.md): decoding, then the extractor (plain and PGO builds) beside
# cat, the issue's yardstick loop, ndpiReader and tshark. `just bench --check` also fails when
# the extractor fell more than 15% behind the committed docs/bench-results.tsv.
bench *ARGS:
    bash scripts/bench-decode.sh
    bash scripts/bench-extract.sh {{ARGS}}

# The binaries built with profile-guided optimisation, trained on the generator's captures
# (needs `rustup component add llvm-tools`): target/pgo-use/release/phonehome-extract.
build-pgo:
    bash scripts/build-pgo.sh

# Print the decoding crate's summary of a capture (formats, link types, names seen).
summary CAPTURE="data/samples/handmade.pcap":
    cargo run -q --release -p phonehome-decode --example summary -- {{CAPTURE}}

# Peak memory on hostile and long captures (see docs/robustness.md).
bench-memory:
    bash scripts/bench-memory.sh

# Every fuzz target for SECS seconds (see docs/robustness.md).
fuzz SECS="60":
    bash scripts/fuzz.sh {{SECS}}

# `just bench-extract --check` compares with the committed results.
# The extractor beside tshark's conversation tables and ndpiReader (see docs/benchmarks.md).
bench-extract *ARGS:
    bash scripts/bench-extract.sh {{ARGS}}

# Refresh docs/unknown-domains.md: owner coverage and the most frequent unowned domains over
# the nDPI corpus.
unknown-domains:
    cargo run -q -p phonehome-extract -- -q --force --combined -o target/unknown-domains ../shared/corpus/ndpi/pcap || test $? -eq 1
    cargo run -q -p phonehome-report --example unknown_domains -- target/unknown-domains/hosts.csv 30 > docs/unknown-domains.md

# Who did a capture talk to: the host table in the terminal.
extract *ARGS:
    cargo run -q --release -p phonehome-extract -- {{ARGS}}

# Export CSV for a spreadsheet: one folder of tables per capture under DIR (e.g.
# `just export-csv out install.pcap firstboot.pcap`).
export-csv DIR *CAPTURES:
    cargo run -q --release -p phonehome-extract -- -o {{DIR}} {{CAPTURES}}

# The demo: who the sample Mac talked to during install and on first boot, and what changed.
demo:
    cargo run -q --release -p phonehome-extract -- data/samples/macos-catalina-install.pcap
    cargo run -q --release -p phonehome-extract -- data/samples/macos-catalina-firstboot.pcap
    cargo run -q --release -p phonehome-diff -- data/samples/macos-catalina-install.pcap data/samples/macos-catalina-firstboot.pcap || test $? -eq 1

# Regenerate the Catalina samples from their scenarios (a test checks they are up to date).
samples:
    cargo run -q -p phonehome-synth-tool -- data/scenarios/macos-catalina-install.toml -o data/samples/macos-catalina-install.pcap
    cargo run -q -p phonehome-synth-tool -- data/scenarios/macos-catalina-firstboot.toml -o data/samples/macos-catalina-firstboot.pcap

# Install vs first boot (or any two captures): what changed.
diff A B *ARGS:
    cargo run -q --release -p phonehome-diff -- {{ARGS}} {{A}} {{B}}
