#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan, and runs each for a
# fixed time, starting from its checked-in seed corpus. Any finding (a crash, a sanitizer
# report, an exception other than ck::Error, an input slower than 10 s or one that takes
# more than 2 GB) fails the run and prints the reproducer.
#   bash scripts/fuzz.sh            # 60 s per target
#   bash scripts/fuzz.sh 3600       # an hour per target
#   FUZZ_TARGETS="fuzz_idx" bash scripts/fuzz.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=${FUZZ_TARGETS:-"fuzz_json fuzz_safetensors fuzz_idx fuzz_mnist fuzz_load_module fuzz_image fuzz_onnx"}

if ! command -v clang++ > /dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a > /dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq clang libclang-rt-14-dev > /dev/null ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq clang libclang-rt-14-dev > /dev/null; }
fi
bash scripts/install-deps.sh

build=${FUZZ_BUILD_DIR:-build-fuzz}
# No -march for convkit's kernel library either: the fuzz targets are compiled without one.
CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVKIT_FUZZ=ON -DCONVKIT_OPENMP=OFF -DCONVKIT_MARCH= \
  -DCONVKIT_BUILD_TESTS=OFF -DCONVKIT_BUILD_EXAMPLES=OFF -DCONVKIT_BUILD_BENCHMARKS=OFF > /dev/null
# One aggregate target when all are asked for: make builds a list of targets one at a time.
if [ -z "${FUZZ_TARGETS:-}" ]; then
  cmake --build "$build" -j "$(nproc)" --target fuzz_all
else
  # shellcheck disable=SC2086
  cmake --build "$build" -j "$(nproc)" --target $targets
fi

status=0
for t in $targets; do
  work="$build/fuzz-work/$t"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  echo "--- $t: ${seconds} s from tests/fuzz/corpus/$t"
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/artifacts/" "$work/corpus" "tests/fuzz/corpus/$t" > "$work/log" 2>&1; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" | tr '\n' ' '
    grep -Eo "cov: [0-9]+ ft: [0-9]+" "$work/log" | tail -1
  else
    status=1
    echo "FINDING in $t:"
    tail -n 60 "$work/log"
    for a in "$work"/artifacts/*; do
      [ -f "$a" ] || continue
      echo "reproducer $a ($(stat -c %s "$a") bytes), base64:"
      head -c 4096 "$a" | base64
      echo "rerun: $build/tests/fuzz/$t $a"
    done
  fi
done
[ "$status" = 0 ] && echo "fuzz: every target ran ${seconds} s without a finding"
exit "$status"
