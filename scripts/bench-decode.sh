#!/usr/bin/env bash
# Decoding throughput beside `cat` and tshark, in one run, on one large capture in page cache.
#
#   BENCH_SIZE=512 bash scripts/bench-decode.sh     # size of the capture in MiB (default 512)
#   RUNS=5                                          # runs per command (median reported)
#
# The capture is the corpus's two largest mixed captures (many-protocols.pcap, tls2.pcap)
# concatenated with mergecap until BENCH_SIZE is reached; it is cached in bench-cache/.
# Then the criterion micro-benchmarks run: the decoders (phonehome-decode), the DNS name table
# (phonehome-flows) and the rules lookup (phonehome-domains).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${BENCH_SIZE:-512}
runs=${RUNS:-5}
. scripts/bench-capture.sh

cargo build -q --release -p phonehome-decode --example summary
bin=target/release/examples/summary

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cat "$cap" > /dev/null   # warm the page cache
cat_t=(); ours_t=(); ours_stream_t=()
for _ in $(seq "$runs"); do
  t0=$(now); cat "$cap" > /dev/null; t1=$(now)
  "$bin" --l4-only "$cap" > /dev/null; t2=$(now)
  "$bin" --l4-only - < "$cap" > /dev/null; t3=$(now)
  cat_t+=("$(echo "$t1 - $t0" | bc -l)")
  ours_t+=("$(echo "$t2 - $t1" | bc -l)")
  ours_stream_t+=("$(echo "$t3 - $t2" | bc -l)")
done
t0=$(now); tshark -r "$cap" -T fields -e frame.len > /dev/null 2>&1; t1=$(now)
tshark_t=$(echo "$t1 - $t0" | bc -l)

packets=$("$bin" --l4-only "$cap" | awk '/frames/ {print $2; exit}')
cat_m=$(printf '%s\n' "${cat_t[@]}" | median)
ours_m=$(printf '%s\n' "${ours_t[@]}" | median)
stream_m=$(printf '%s\n' "${ours_stream_t[@]}" | median)
mbs() { echo "scale=1; $bytes / $1 / 1000000" | bc -l; }
pps() { echo "scale=0; $packets / $1" | bc -l; }
echo
echo "capture: $cap ($bytes bytes, $packets packets), $runs runs, medians"
printf '%-44s %10s %12s %14s\n' command seconds MB/s packets/s
printf '%-44s %10.3f %12s %14s\n' "cat FILE > /dev/null" "$cat_m" "$(mbs "$cat_m")" "$(pps "$cat_m")"
printf '%-44s %10.3f %12s %14s\n' "summary --l4-only FILE" "$ours_m" "$(mbs "$ours_m")" "$(pps "$ours_m")"
printf '%-44s %10.3f %12s %14s\n' "summary --l4-only - < FILE (stdin)" "$stream_m" "$(mbs "$stream_m")" "$(pps "$stream_m")"
printf '%-44s %10.3f %12s %14s\n' "tshark -r FILE -T fields -e frame.len" "$tshark_t" "$(mbs "$tshark_t")" "$(pps "$tshark_t")"
echo
echo "decode time / cat time:        $(echo "scale=2; $ours_m / $cat_m" | bc -l)x   (target: within 3x)"
echo "stdin decode time / cat time: $(echo "scale=2; $stream_m / $cat_m" | bc -l)x"
echo "tshark time / decode time:     $(echo "scale=1; $tshark_t / $ours_m" | bc -l)x faster   (target: at least 50x)"

if [ "${SKIP_CRITERION:-}" = "" ]; then
  # The decoders, the DNS name table, the rules lookup.
  cargo bench -q -p phonehome-decode --bench decode
  cargo bench -q -p phonehome-flows --bench names
  cargo bench -q -p phonehome-domains --bench lookup
fi
