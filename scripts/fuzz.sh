#!/usr/bin/env bash
# The long fuzzing campaign (docs/RELIABILITY.md): random action sequences,
# mangled protocol lines and mutated task files against the engine in-process,
# FUZZ_STEPS action steps (default 10^6) split over FUZZ_JOBS processes
# (default 2), each on its own seeds. CI runs a fixed small budget of the same
# targets inside `cargo test` (tests/it/fuzz.rs).
#
#   scripts/fuzz.sh                      # 10^6 steps on 2 processes
#   FUZZ_STEPS=100000 FUZZ_SEED=7 scripts/fuzz.sh
#
# Any failure prints the seed that reproduces it; make it a regression test.
#
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) needs a nightly toolchain and
# cargo-fuzz; no such target is set up yet, so this script says so and runs the
# in-process campaign only.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${FUZZ_STEPS:-1000000}
jobs=${FUZZ_JOBS:-2}
seed=${FUZZ_SEED:-$(date +%s)}

if command -v cargo-fuzz >/dev/null && rustup toolchain list 2>/dev/null | grep -q nightly; then
  echo "note: nightly and cargo-fuzz are present, but no libFuzzer targets exist yet (fuzz/)" >&2
fi

cargo test --profile test --test it --no-run --locked 2>/dev/null
bin=$(cargo test --profile test --test it --no-run --locked --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*\/it-[^"]*\)".*/\1/p' | tail -1)

echo "fuzz: $steps action steps on $jobs processes, seeds from $seed"
pids=()
for j in $(seq 0 $((jobs - 1))); do
  FUZZ_STEPS=$((steps / jobs)) FUZZ_SEED=$((seed + j * 1000003)) \
    nice "$bin" fuzz::long_campaign --ignored --nocapture --exact \
    > "target/fuzz-$j.log" 2>&1 &
  pids+=("$!")
done
status=0
for j in "${!pids[@]}"; do
  if wait "${pids[$j]}"; then
    grep '^FUZZ RESULT' "target/fuzz-$j.log"
  else
    status=1
    echo "fuzz process $j FAILED:" >&2
    grep -E 'panicked|seed' "target/fuzz-$j.log" >&2 || tail -20 "target/fuzz-$j.log" >&2
  fi
done
exit $status
