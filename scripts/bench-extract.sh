#!/usr/bin/env bash
# The extractor beside its peers, in one run, on one large capture in page cache:
#   phonehome-extract -q -o DIR FILE          (flows, names, hosts, all output files)
#   tshark -q -z conv,tcp -z conv,udp -r FILE (conversation tables only)
#   ndpiReader -i FILE -q                     (flows + DPI; skipped when not installed)
#
#   BENCH_SIZE=256 bash scripts/bench-extract.sh   # capture size in MiB (default 256)
#   RUNS=3                                         # runs of phonehome (median reported)
#
# The capture is built as in bench-decode.sh (many-protocols.pcap + tls2.pcap from the corpus,
# repeated with mergecap) and cached in bench-cache/. The peers run once each.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${BENCH_SIZE:-256}
runs=${RUNS:-3}
. scripts/bench-capture.sh
cargo build -q --release -p phonehome-extract
bin=target/release/phonehome-extract
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
cat "$cap" > /dev/null
ours=()
for _ in $(seq "$runs"); do
  t0=$(now); "$bin" -q --force -o "$out/ph" "$cap"; t1=$(now)
  ours+=("$(echo "$t1 - $t0" | bc -l)")
done
ours_m=$(printf '%s\n' "${ours[@]}" | median)
t0=$(now); tshark -q -z conv,tcp -z conv,udp -r "$cap" > "$out/tshark.txt" 2>/dev/null; t1=$(now)
tshark_t=$(echo "$t1 - $t0" | bc -l)
ndpi_t=""
if command -v ndpiReader >/dev/null; then
  t0=$(now); ndpiReader -i "$cap" -q > "$out/ndpi.txt" 2>&1 || true; t1=$(now)
  ndpi_t=$(echo "$t1 - $t0" | bc -l)
fi
packets=$(python3 -c "import json,sys; print(json.load(open('$out/ph/summary.json'))['packets'])" 2>/dev/null || echo 0)
flows=$(python3 -c "import json,sys; print(json.load(open('$out/ph/summary.json'))['flows'])" 2>/dev/null || echo 0)
mbs() { echo "scale=1; $bytes / $1 / 1000000" | bc -l; }
echo
echo "capture: $cap ($bytes bytes, $packets packets, $flows flows); phonehome: median of $runs"
printf '%-46s %10s %10s\n' command seconds MB/s
printf '%-46s %10.3f %10s\n' "phonehome-extract -q -o DIR FILE" "$ours_m" "$(mbs "$ours_m")"
printf '%-46s %10.3f %10s\n' "tshark -q -z conv,tcp -z conv,udp -r FILE" "$tshark_t" "$(mbs "$tshark_t")"
[ -n "$ndpi_t" ] && printf '%-46s %10.3f %10s\n' "ndpiReader -i FILE -q" "$ndpi_t" "$(mbs "$ndpi_t")"
echo
echo "tshark conv time / phonehome time:  $(echo "scale=1; $tshark_t / $ours_m" | bc -l)x"
[ -n "$ndpi_t" ] && echo "ndpiReader time / phonehome time:   $(echo "scale=1; $ndpi_t / $ours_m" | bc -l)x"
exit 0
