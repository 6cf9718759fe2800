#!/usr/bin/env bash
# Peak memory of phonehome-extract on hostile and long captures (docs/robustness.md).
#
#   bash scripts/bench-memory.sh          # MEM_SCAN=3000000 MEM_FLOOD=2000000 MEM_SIZE=1024
#
# Builds once (cached in bench-cache/) with the project's generator:
#   - a SYN scan of MEM_SCAN distinct targets (one flow each, all alive at once),
#   - a DNS flood of MEM_FLOOD answers, each a new name and address,
#   - a MEM_SIZE MiB capture of the first-boot scenario played over and over,
# then runs the extractor on each with the default limits and with limits ten times smaller,
# and the long capture from a file and through stdin, printing peak RSS (GNU time) per run.
# Peak RSS should follow the limits (live flows, name table, rows), not the input's size.
set -euo pipefail
cd "$(dirname "$0")/.."
scan_n=${MEM_SCAN:-3000000}
flood_n=${MEM_FLOOD:-2000000}
size=${MEM_SIZE:-1024}
[ -x /usr/bin/time ] || { echo "bench-memory: /usr/bin/time not found; apt-get install -y time" >&2; exit 2; }
cargo build -q --release -p phonehome-extract -p phonehome-synth-tool
bin=target/release/phonehome-extract
synth=target/release/phonehome-synth
mkdir -p bench-cache
scan=bench-cache/syn-scan-$scan_n.pcap
flood=bench-cache/dns-flood-$flood_n.pcap
long=bench-cache/firstboot-${size}MiB.pcap
[ -f "$scan" ] || "$synth" --syn-scan "$scan_n" -o "$scan"
[ -f "$flood" ] || "$synth" --dns-flood "$flood_n" -o "$flood"
[ -f "$long" ] || "$synth" data/scenarios/macos-catalina-firstboot.toml --size "$size" -o "$long"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Runs the extractor on $1 (a file, or - with $1 piped in when $2 is "stdin") with the rest
# as flags; prints input MiB, peak RSS MiB, seconds, flows.
run() {
  local input=$1 how=$2; shift 2
  rm -rf "$out/o"
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$how" = stdin ]; then
    /usr/bin/time -f '%M' -o "$out/rss" "$bin" -q --force "$@" -o "$out/o" - < "$input" 2>"$out/err" || true
  else
    /usr/bin/time -f '%M' -o "$out/rss" "$bin" -q --force "$@" -o "$out/o" "$input" 2>"$out/err" || true
  fi
  t1=$(date +%s.%N)
  local rss flows
  rss=$(tail -1 "$out/rss")
  flows=$(sed -n 's/.*"flows": \([0-9]*\),.*/\1/p' "$out/o/summary.json" | head -1)
  printf '%-28s %-7s %-44s %8d %9.0f %7.1f %9s\n' "$(basename "$input")" "$how" "${*:-(defaults)}" \
    $(( $(stat -c %s "$input") >> 20 )) "$(echo "$rss / 1024" | bc -l)" "$(echo "$t1 - $t0" | bc -l)" "$flows"
}
printf '%-28s %-7s %-44s %8s %9s %7s %9s\n' capture input flags MiB peak_MiB seconds flows
run "$scan" file
run "$scan" file --max-flows 100000
run "$flood" file
run "$flood" file --max-dns-addresses 100000 --max-rows 100000
run "$long" file
run "$long" stdin
run "$long" stdin --spill-after 0
