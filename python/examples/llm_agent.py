"""An LLM agent loop on trainwreck's text view: the prompt in, one action line
out, until the episode ends.

The model is any callable ``model(messages) -> str`` taking chat messages
(``{"role": "system"|"user"|"assistant", "content": str}``). Here it is
:class:`StubModel`, a few rules that read the same text an LLM would, so the
loop runs offline (and in the tests). To use a real model, pass e.g.::

    def model(messages):
        reply = openai_client.chat.completions.create(model="…", messages=messages)
        return reply.choices[0].message.content

Run: ``python llm_agent.py task_003 7`` (the ``trainwreck`` binary on PATH or
in ``$TRAINWRECK_BIN``).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Callable, Sequence

from trainwreck import Client
from trainwreck.agents import find_code_fix

SYSTEM_PROMPT = """You are debugging a neural-network training run that went wrong.
Each turn you see the run as text: curves (one number per epoch, '-' where missing), the config,
notes, the result of your last inspection, and the actions available now.
Investigate, fix what is broken, re-run training (restart_run), then name the root cause.
Answer with one line: ACTION: {"action_type": ...} with the parameters the action needs, e.g.
ACTION: {"action_type": "inspect_gradients"}
ACTION: {"action_type": "modify_config", "target": "learning_rate", "value": 0.001}
ACTION: {"action_type": "fix_code", "line": 14, "replacement": "optimizer.zero_grad()"}
ACTION: {"action_type": "mark_diagnosed", "diagnosis": "data_leakage"}
Diagnosis labels: lr_too_high, vanishing_gradients, data_leakage, overfitting,
batchnorm_eval_mode, code_bug, scheduler_misconfigured, exploding_gradients,
unnormalized_inputs, label_noise, nan_in_data, bad_weight_init."""

Model = Callable[[Sequence[dict]], str]
_NOT_FIXES = {"inspect_gradients", "inspect_data_batch", "inspect_model_modes", "inspect_model_weights",
              "inspect_code", "restart_run", "mark_diagnosed"}
_ACTION = re.compile(r"ACTION:\s*(\{.*\})")


def parse_action(reply: str) -> dict | None:
    """The action on the reply's last ``ACTION:`` line, or None."""
    for match in reversed(_ACTION.findall(reply)):
        try:
            action = json.loads(match)
        except ValueError:
            continue
        if isinstance(action, dict) and isinstance(action.get("action_type"), str):
            return action
    return None


class StubModel:
    """Rules over the text view standing in for an LLM: inspect gradients,
    data and modes, then act on the first symptom the text shows."""

    def __call__(self, messages: Sequence[dict]) -> str:
        seen = "\n".join(m["content"] for m in messages if m["role"] == "user")
        done = "\n".join(m["content"] for m in messages if m["role"] == "assistant")
        view = messages[-1]["content"]

        def say(thought: str, action: dict) -> str:
            return f"{thought}\nACTION: {json.dumps(action)}"

        for kind in ("inspect_gradients", "inspect_data_batch", "inspect_model_modes"):
            if kind not in done:
                return say(f"I have not looked at {kind[8:]} yet.", {"action_type": kind})
        # A fix whose re-run did not recover was aimed at a symptom: read the code.
        if "has not recovered" in seen:
            label, fix = "code_bug", None
        else:
            label, fix = self.diagnose(seen)
        if label == "code_bug":
            if "inspect_code" not in done:
                return say("Nothing else explains it; reading train.py.", {"action_type": "inspect_code"})
            code = "\n".join(m.group(1) for m in re.finditer(r"^ ?\d+ (.*)$", seen, re.M))
            found = find_code_fix(code)
            if found is not None:
                fix = {"action_type": "fix_code", "line": found[0], "replacement": found[1]}
        last = parse_action(done)
        if fix is not None and json.dumps(fix) not in done:
            return say(f"This looks like {label}; fixing it.", fix)
        if last is not None and last["action_type"] not in _NOT_FIXES and "restart_run" in view:
            return say("Re-running training to check the fix.", {"action_type": "restart_run"})
        return say(f"The root cause is {label}.", {"action_type": "mark_diagnosed", "diagnosis": label})

    @staticmethod
    def diagnose(seen: str) -> tuple[str, dict | None]:
        lr = re.findall(r"· lr ([0-9.e-]+) ·", seen)
        current_lr = float(lr[0]) if lr else 0.01
        # The gradient message names the layers: "Exploding: fc3." / "Vanishing: fc1."
        if "Exploding: " in seen or "loss is inf" in seen:
            return "lr_too_high", {"action_type": "modify_config", "target": "learning_rate",
                                   "value": float(f"{current_lr / 30:.2g}")}
        if "Vanishing: " in seen:
            return "vanishing_gradients", {"action_type": "modify_config", "target": "weight_init",
                                           "value": "kaiming"}
        dup = re.findall(r"duplicate_ratio=([0-9.e-]+)", seen)
        overlap = re.findall(r"class_overlap_score=([0-9.e-]+)", seen)
        if (dup and float(dup[-1]) > 0.1) or (overlap and float(overlap[-1]) > 0.2):
            return "data_leakage", {"action_type": "patch_data_loader", "target": "remove_overlap"}
        if re.search(r"model modes during training:.*=eval", seen):
            return "batchnorm_eval_mode", {"action_type": "fix_model_mode"}
        curves = re.findall(r"^val_loss: (.*)$", seen, re.M)
        if curves:
            val = [float(v) for v in curves[0].split() if v != "-"]
            if len(val) >= 6 and val.index(min(val)) < len(val) - 3 and val[-1] > 1.1 * min(val):
                return "overfitting", {"action_type": "add_callback", "target": "early_stopping"}
        return "code_bug", None


def run_episode(client: Client, model: Model, task_id: str, seed: int, max_turns: int = 40) -> dict:
    """Play one episode; return the score, the turns, the transcript's size
    in tokens (bytes / 4, everything the model read and wrote) and the prompt
    tokens over all calls (each call re-reads the conversation so far)."""
    client.reset(task_id, seed)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": client.render()}]
    result = None
    for _ in range(max_turns):
        reply = model(messages)
        messages.append({"role": "assistant", "content": reply})
        action = parse_action(reply)
        if action is None:
            messages.append({"role": "user", "content": "No action found. Answer with one line: ACTION: {...}"})
            continue
        result = client.step(action)
        messages.append({"role": "user", "content": client.render()})
        if result.done:
            break
    transcript = sum(len(m["content"].encode()) for m in messages)
    # A chat model re-reads the whole conversation on every call.
    prompt = sum(
        sum(len(m["content"].encode()) for m in messages[:i])
        for i, m in enumerate(messages)
        if m["role"] == "assistant"
    )
    return {
        "task_id": task_id,
        "seed": seed,
        "done": bool(result and result.done),
        "score": result.score if result else None,
        "turns": sum(m["role"] == "assistant" for m in messages),
        "tokens": transcript // 4,
        "prompt_tokens": prompt // 4,
        "messages": messages,
    }


if __name__ == "__main__":
    task, seed = (sys.argv[1:3] + [None, None])[:2]
    with Client() as tw:
        outcome = run_episode(tw, StubModel(), task or "task_003", int(seed or 7))
    for m in outcome["messages"][1:]:
        print(f"--- {m['role']}\n{m['content']}")
    print(
        f"score {outcome['score']} in {outcome['turns']} turns, transcript ~{outcome['tokens']} tokens, "
        f"~{outcome['prompt_tokens']} prompt tokens over all calls"
    )
