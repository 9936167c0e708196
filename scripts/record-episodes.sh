#!/usr/bin/env bash
# Re-record tests/episodes/ with the current engine. Run it when a change to the
# numbers is intended (and say why in the commit); CI replays these files and
# fails on any divergence. A recording depends only on the tasks it played
# (the `task` entry after each reset), so a new task file changes none of
# them: keep catalogue-wide replies (`tasks`, `schema`) out of these sessions.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test profile's binary: the one `cargo test` builds anyway (runs are
# deterministic to the bit at every optimisation level).
cargo build --profile test --quiet
bin=./target/debug/trainwreck
out=tests/episodes
mkdir -p "$out"
rm -f "$out"/*.jsonl

serve() { # name, then request lines on stdin
  # A fixed session seed: the header stays the same from one re-recording to the next.
  "$bin" --serve --seed 1 --record "$out/$1.jsonl" > /dev/null
}

serve task_001_walkthrough_with_events <<'L'
{"type":"subscribe","data":{"events":"all"}}
{"type":"reset","id":1,"data":{"task_id":"task_001","seed":42}}
{"type":"step","id":2,"data":{"action_type":"inspect_gradients"}}
{"type":"step","id":3,"data":{"action_type":"inspect_data_batch"}}
{"type":"step","id":4,"data":{"action_type":"modify_config","target":"learning_rate","value":0.001}}
{"type":"step","id":5,"data":{"action_type":"restart_run"}}
{"type":"step","id":6,"data":{"action_type":"mark_diagnosed","diagnosis":"lr_too_high"}}
{"type":"grade","id":7}
L

serve task_002_red_herring_then_fix <<'L'
{"type":"reset","data":{"task_id":"task_002","seed":7}}
{"type":"step","data":{"action_type":"inspect_gradients"}}
{"type":"step","data":{"action_type":"inspect_model_weights"}}
{"type":"step","data":{"action_type":"add_callback","target":"lr_warmup"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"modify_config","target":"weight_init","value":"kaiming"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"vanishing_gradients"}}
{"type":"grade"}
L

serve task_003_wrong_diagnosis <<'L'
{"type":"reset","data":{"task_id":"task_003","seed":3}}
{"type":"step","data":{"action_type":"inspect_data_batch"}}
{"type":"step","data":{"action_type":"patch_data_loader","target":"remove_overlap"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"overfitting"}}
{"type":"grade"}
{"type":"step","data":{"action_type":"inspect_code"}}
L

serve task_004_optimizer_and_early_stopping <<'L'
{"type":"subscribe","data":{"events":["training_started","training_stopped","training_completed"]}}
{"type":"reset","data":{"task_id":"task_004","seed":11}}
{"type":"step","data":{"action_type":"inspect_data_batch"}}
{"type":"step","data":{"action_type":"replace_optimizer","value":"sgd"}}
{"type":"step","data":{"action_type":"add_callback","target":"early_stopping"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"overfitting"}}
{"type":"state"}
L

serve task_005_model_modes <<'L'
{"type":"reset","data":{"task_id":"task_005","seed":42}}
{"type":"step","data":{"action_type":"inspect_gradients"}}
{"type":"step","data":{"action_type":"inspect_model_modes"}}
{"type":"step","data":{"action_type":"modify_config","target":"batch_size","value":16}}
{"type":"step","data":{"action_type":"fix_model_mode"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"batchnorm_eval_mode"}}
{"type":"grade"}
L

serve task_006_code_fix_and_invalid_actions <<'L'
{"type":"reset","data":{"task_id":"task_006","seed":0}}
{"type":"step","data":{"action_type":"fix_code","line":14,"replacement":"optimizer.zero_grad()"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"inspect_code"}}
{"type":"step","data":{"action_type":"fix_code","line":14,"replacement":"optimizer.zero_grads()"}}
{"type":"step","data":{"action_type":"fix_code","line":14,"replacement":"optimizer.zero_grad()"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"code_bug"}}
{"type":"grade"}
L

{ # 21 inspections: the 20th ends the episode, the 21st is answered EPISODE_DONE
  echo '{"type":"reset","data":{"task_id":"task_001","seed":9}}'
  for _ in $(seq 20); do echo '{"type":"step","data":{"action_type":"inspect_gradients"}}'; done
  echo '{"type":"state"}'
  echo '{"type":"step","data":{"action_type":"inspect_gradients"}}'
} | serve task_001_out_of_steps

printf '%s\n' \
  'not json' '[1]' '{"type":"warp"}' '{"type":"step","data":{"action_type":"inspect_code"}}' \
  '{"type":"reset","data":{"task_id":"nope"}}' '{"type":"reset","data":{"seed":-1}}' \
  '{"type":"reset","id":"x","data":{"task_id":"task_004","seed":2},"more":true}' \
  '{"type":"reset","data":{"task_id":"task_004","seed":2}}' \
  '{"type":"step","data":{"action_type":"modify_config","target":"learning_rate","value":"NaN"}}' \
  '{"type":"step","data":{"action_type":"modify_config","target":"hidden_dim","value":1e9}}' \
  '{"type":"step","data":{"action_type":"dance"}}' '{"type":"close"}' \
  | serve hostile_lines

# A mystery: the recording names the task seed 3 drew; replay draws again and
# refuses it as unusable only if the draw or that task changed.
serve mystery_seed_3 <<'L'
{"type":"reset","data":{"task_id":"mystery","seed":3}}
{"type":"step","data":{"action_type":"inspect_gradients"}}
{"type":"step","data":{"action_type":"inspect_data_batch"}}
{"type":"grade"}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"overfitting"}}
{"type":"grade"}
L

# A two-fault task: curing the first fault alone does not recover the run; the
# debrief explains both faults.
serve task_025_two_faults <<'L'
{"type":"reset","data":{"task_id":"task_025","seed":4}}
{"type":"step","data":{"action_type":"inspect_data_batch"}}
{"type":"step","data":{"action_type":"patch_data_loader","target":"drop_nan_rows"}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"inspect_gradients"}}
{"type":"step","data":{"action_type":"modify_config","target":"learning_rate","value":0.01}}
{"type":"step","data":{"action_type":"restart_run"}}
{"type":"step","data":{"action_type":"mark_diagnosed","diagnosis":"nan_in_data"}}
{"type":"grade"}
L

printf 'inspect gradients\ninspect modes\nfix modes\nrestart\ncurves\ndiagnose batchnorm_eval_mode\n' \
  | "$bin" --task task_005 --seed 5 --record "$out/repl_task_005.jsonl" --color never > /dev/null

"$bin" replay "$out"
