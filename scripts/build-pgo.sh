#!/usr/bin/env bash
# Builds the binaries with profile-guided optimisation (docs/benchmarks.md, "The PGO build"):
# an instrumented extractor runs on captures made by the project's own generator (never the
# corpus), and the counts it records steer the compiler's inlining and code layout in a second
# build. The program is the same (outputs byte-identical to the plain build); only the
# machine code differs.
#
#   bash scripts/build-pgo.sh      # -> target/pgo-use/release/phonehome-{extract,diff,baseline}
#
# Needs llvm-profdata from the Rust toolchain: rustup component add llvm-tools
# Training captures are built once and cached in bench-cache/pgo-train/ (about 150 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  echo "build-pgo: llvm-profdata not found; install it with: rustup component add llvm-tools" >&2
  exit 2
fi

cargo build -q --release -p phonehome-synth-tool
synth=target/release/phonehome-synth
train=bench-cache/pgo-train
mkdir -p "$train"
install=data/scenarios/macos-catalina-install.toml
[ -f "$train/mix.pcap" ] || "$synth" "$install" --full-payload --mix --size 48 -o "$train/mix.pcap"
[ -f "$train/mix.pcapng" ] || "$synth" "$install" --full-payload --mix --pcapng --size 16 -o "$train/mix.pcapng"
[ -f "$train/mix.pcap.gz" ] || gzip -1 -c "$train/mix.pcap" > "$train/mix.pcap.gz"
[ -f "$train/boot.pcap" ] || "$synth" data/scenarios/macos-catalina-firstboot.toml --size 32 -o "$train/boot.pcap"
[ -f "$train/lookups.pcap" ] || "$synth" --dns-lookups 200000 -o "$train/lookups.pcap"
[ -f "$train/flood.pcap" ] || "$synth" --dns-flood 50000 -o "$train/flood.pcap"

# 1. The instrumented build, in a target directory of its own.
gen=$PWD/target/pgo-gen
raw=$gen/profraw
rm -rf "$raw"
mkdir -p "$raw"
CARGO_TARGET_DIR=$gen RUSTFLAGS="-Cprofile-generate=$raw" cargo build -q --release -p phonehome-extract

# 2. Training: every input form, one and two threads. No training capture should give a
# warning, so any exit status but 0 stops the build.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  LLVM_PROFILE_FILE="$raw/%p-%m.profraw" "$gen/release/phonehome-extract" -q --force -o "$out" "$@" ||
    { echo "build-pgo: training run failed: phonehome-extract $*" >&2; exit 1; }
}
for f in "$train"/mix.pcap "$train"/mix.pcapng "$train"/mix.pcap.gz "$train"/boot.pcap \
  "$train"/lookups.pcap "$train"/flood.pcap data/samples/*.pcap; do
  run --threads 1 "$f"
  run --threads 2 "$f"
done
run - < "$train/mix.pcap"

# 3. The optimised build. The profile's name carries its digest, so that a new profile
# changes RUSTFLAGS and cargo rebuilds (it does not watch the file itself).
"$profdata" merge -o "$gen/merged.profdata" "$raw"
digest=$(sha256sum "$gen/merged.profdata" | cut -c1-16)
profile=$gen/merged-$digest.profdata
mv "$gen/merged.profdata" "$profile"
find "$gen" -maxdepth 1 -name 'merged-*.profdata' ! -path "$profile" -delete
CARGO_TARGET_DIR=$PWD/target/pgo-use RUSTFLAGS="-Cprofile-use=$profile" \
  cargo build -q --release -p phonehome-extract -p phonehome-diff -p phonehome-baseline
echo "build-pgo: target/pgo-use/release/phonehome-extract (profile $profile)"
