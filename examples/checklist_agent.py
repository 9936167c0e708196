#!/usr/bin/env python3
"""A trainwreck agent in 50 lines, for `trainwreck eval --agent "python3 examples/checklist_agent.py"`.

It reads observation reply lines on stdin and writes step request lines on
stdout (docs/PROTOCOL.md). One process plays one episode; it exits at EOF.
"""
import json
import sys


def step(action_type, **params):
    return {"type": "step", "data": {"action_type": action_type, **params}}


def judge(obs):
    """The root cause the evidence points to, and the fix for it."""
    data = obs.get("data_batch_stats") or {}
    modes = obs.get("model_mode_info") or {}
    grads = obs.get("gradient_stats") or []
    if "eval" in modes.values():
        return "batchnorm_eval_mode", step("fix_model_mode")
    if data.get("duplicate_ratio", 0) > 0.05:
        return "data_leakage", step("patch_data_loader", target="remove_overlap")
    if any(g["is_vanishing"] for g in grads):
        return "vanishing_gradients", step("modify_config", target="weight_init", value="kaiming")
    if obs["run_status"] == "failed" or any(g["is_exploding"] for g in grads):
        return "lr_too_high", step("modify_config", target="learning_rate", value=0.001)
    return "overfitting", step("add_callback", target="early_stopping")


def main():
    diagnosis, fix, restarted = None, None, False
    for line in sys.stdin:
        reply = json.loads(line)
        if reply["type"] != "observation" or reply["data"]["done"]:
            continue  # the final observation needs no answer
        obs = reply["data"]["observation"]
        state = obs["episode_state"]
        if not state["gradients_inspected"]:
            request = step("inspect_gradients")
        elif not state["data_inspected"]:
            request = step("inspect_data_batch")
        elif not state["model_modes_inspected"]:
            request = step("inspect_model_modes")
        elif diagnosis is None:
            diagnosis, fix = judge(obs)
            request = fix
        elif not restarted:
            restarted = True
            request = step("restart_run")
        else:
            request = step("mark_diagnosed", diagnosis=diagnosis)
        print(json.dumps(request), flush=True)


if __name__ == "__main__":
    main()
