#!/usr/bin/env bash
# Runs phonehome's fuzz targets (docs/robustness.md).
#
#   scripts/fuzz.sh [-j JOBS] SECONDS [TARGET...]
#
# Builds the cargo-fuzz targets (RUSTC_BOOTSTRAP=1 lets the stable toolchain build them), makes
# seed corpora from ../shared/corpus when they are missing (never committed), then runs each
# target for SECONDS, JOBS targets at a time (default 1). Every target first replays its saved
# reproducers (fuzz/regressions/TARGET) and seeds. A crash, hang (10 s) or allocation beyond
# 2 GiB fails the run; the input is left in fuzz/artifacts/TARGET/. The last line per target
# gives executions, coverage (edges) and features, as `fuzz-report.tsv` also records.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=1
if [[ "${1:-}" == -j ]]; then jobs=$2; shift 2; fi
secs=${1:?usage: scripts/fuzz.sh [-j JOBS] SECONDS [TARGET...]}
shift
all=(capture packet dns tls http ntp dhcp quic rules extract)
targets=("${@:-${all[@]}}")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")

if ! command -v cargo-fuzz >/dev/null; then
  echo "installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz >&2
fi
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O >&2)
if [[ ! -d fuzz/corpus/capture ]]; then
  if [[ -f ../shared/corpus/MANIFEST.tsv ]]; then
    cargo run -q -p phonehome-fuzzing --example seeds -- ../shared/corpus fuzz/corpus >&2
  else
    echo "no ../shared/corpus: fuzzing from the saved reproducers only" >&2
  fi
fi

max_len() {
  case $1 in
    capture|extract) echo 65536 ;;
    rules) echo 262144 ;;
    *) echo 16384 ;;
  esac
}

run_one() {
  local t=$1 secs=$2
  local work=fuzz/work/$t log=fuzz/logs/$t.log
  mkdir -p "$work" fuzz/artifacts/"$t" fuzz/logs fuzz/regressions/"$t"
  local dirs=("$work" fuzz/regressions/"$t")
  [[ -d fuzz/corpus/$t ]] && dirs+=(fuzz/corpus/"$t")
  local bin=fuzz/target/x86_64-unknown-linux-gnu/release/$t
  if "$bin" "${dirs[@]}" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=fuzz/artifacts/"$t"/ \
      >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$status" "${execs:-0}" "${cov:-0}" "${ft:-0}" "$secs"
  if [[ $status != ok ]]; then
    grep -E 'ERROR|panicked|SUMMARY|Test unit written' "$log" | head -20 >&2
    return 1
  fi
}
export -f run_one max_len

printf 'target\tstatus\texecutions\tcoverage_edges\tfeatures\tseconds\n' | tee fuzz-report.tsv
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c "run_one {} $secs" | tee -a fuzz-report.tsv
if grep -q FAILED fuzz-report.tsv; then
  echo "fuzzing found a failure: see fuzz/artifacts/ and fuzz/logs/" >&2
  exit 1
fi
