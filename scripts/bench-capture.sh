# Sourced by the bench scripts: checks the tools and builds (once, cached in bench-cache/) the
# benchmark capture of `size_mib` MiB from the corpus's two largest mixed captures
# (many-protocols.pcap and tls2.pcap) repeated with mergecap. Sets `cap` and `bytes`.
corpus=../shared/corpus/general/pcapplusplus
for tool in mergecap tshark bc; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench: $tool not found; install it with: apt-get install -y tshark bc" >&2
    exit 2
  fi
done
[ -d "$corpus" ] || { echo "bench: corpus not found at $corpus" >&2; exit 2; }
mkdir -p bench-cache
cap=bench-cache/decode-${size_mib}MiB.pcap
if [ ! -f "$cap" ]; then
  one=$(( $(stat -c %s "$corpus/many-protocols.pcap") + $(stat -c %s "$corpus/tls2.pcap") ))
  reps=$(( (size_mib * 1048576 + one - 1) / one ))
  args=()
  for _ in $(seq "$reps"); do args+=("$corpus/many-protocols.pcap" "$corpus/tls2.pcap"); done
  echo "building $cap from $reps copies of the two corpus captures" >&2
  mergecap -a -F pcap -w "$cap" "${args[@]}"
fi
bytes=$(stat -c %s "$cap")
