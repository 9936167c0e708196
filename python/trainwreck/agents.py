"""Two reference agents that read only observations (standard library only).

* :class:`RandomAgent` picks an available action at random (seeded, so an
  evaluation is reproducible), with random parameters drawn from the server's
  action schema (labels, targets, ranges: whatever the running binary offers).
* :class:`HeuristicAgent` inspects gradients, data and modes, then follows the
  first symptom it recognises: the fix that symptom calls for, a restart, and
  the diagnosis. A floor for any learned agent, not a solution key.

An agent is any object with ``name`` and ``act(observation) -> action``, an
optional ``reset(task_id, seed)``, and an optional ``attach(schema)`` that
:func:`trainwreck.evaluate.play` calls with the server's ``{"type":"schema"}``
reply before the first episode's actions.
"""

from __future__ import annotations

import random
from typing import Protocol

from ._schema import action_variants, string_options

__all__ = ["Agent", "RandomAgent", "HeuristicAgent", "AGENTS", "make_agent", "find_code_fix"]

class Agent(Protocol):
    name: str

    def reset(self, task_id: str, seed: int) -> None: ...

    def act(self, observation: dict) -> dict: ...


class RandomAgent:
    """Uniform over the actions available now; each parameter uniform over
    what the action schema allows (a closed set of strings, a number or whole
    number in its range, a flag; a line of ``train.py`` for ``fix_code``).
    Optional parameters are sent half the time. Needs the schema: pass it to
    the constructor or :meth:`attach` (``play`` does)."""

    name = "random"

    def __init__(self, seed: int = 0, schema: dict | None = None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.variants: dict | None = None
        if schema is not None:
            self.attach(schema)

    def attach(self, schema: dict) -> None:
        """Read the actions and their parameters from the server's schema."""
        self.variants = action_variants(schema["action"])

    def reset(self, task_id: str, seed: int) -> None:
        self.rng = random.Random(f"{self.seed}/{task_id}/{seed}")

    def act(self, observation: dict) -> dict:
        if self.variants is None:
            raise RuntimeError("RandomAgent needs the server's schema: call attach(client.schema()) first")
        kind = self.rng.choice(observation.get("available_actions") or ["mark_diagnosed"])
        action: dict = {"action_type": kind}
        variants = self.variants.get(kind) or [({}, frozenset())]
        params, required = self.rng.choice(variants)
        for name, schema in params.items():
            if name not in required and self.rng.random() < 0.5:
                continue
            value = self._sample(name, schema, observation)
            if value is not None:
                action[name] = value
        return action

    def _sample(self, name: str, schema: dict, observation: dict):
        options = string_options(schema)
        if options:
            return self.rng.choice(options)
        types = schema.get("type")
        types = set(types) if isinstance(types, list) else {types}
        code = (observation.get("code_snippet") or {}).get("code") or ""
        if name == "line":
            return self.rng.randint(1, max(1, len(code.splitlines())))
        if "integer" in types and "maximum" in schema:
            return self.rng.randint(int(schema.get("minimum", 0)), int(schema["maximum"]))
        if "number" in types and "maximum" in schema:
            return self.rng.uniform(float(schema.get("minimum", 0.0)), float(schema["maximum"]))
        if "boolean" in types:
            return self.rng.random() < 0.5
        if "string" in types:
            # Free text (a replacement line): one of train.py's own statements.
            lines = [line.strip() for line in code.splitlines() if line.strip()]
            return self.rng.choice(lines) if lines else None
        return None


def find_code_fix(code: str) -> tuple[int, str] | None:
    """``(line, replacement)`` for the first training-loop bug a reader spots
    in ``train.py`` (a ``zero_grad`` never called, the loss on a detached
    output, ``relu`` on the logits, ``model.eval()`` in the loop), or None."""
    for number, line in enumerate(code.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip())]
        body = line.strip()
        if body == "optimizer.zero_grad":
            return number, f"{indent}optimizer.zero_grad()"
        if ".detach()" in body and "loss" in body:
            return number, indent + body.replace(".detach()", "")
        if body.startswith("output = torch.relu(") and body.endswith(")"):
            return number, f"{indent}output = {body[len('output = torch.relu('):-1]}"
        if body == "model.eval()" and indent:
            return number, f"{indent}model.train()"
    return None


def _finite(values: list) -> list:
    return [v for v in values or [] if isinstance(v, (int, float))]


class HeuristicAgent:
    name = "heuristic"

    def __init__(self) -> None:
        self.plan: list = []

    def reset(self, task_id: str, seed: int) -> None:
        self.plan = []

    def act(self, observation: dict) -> dict:
        state = observation.get("episode_state") or {}
        for done, action in (
            ("gradients_inspected", "inspect_gradients"),
            ("data_inspected", "inspect_data_batch"),
            ("model_modes_inspected", "inspect_model_modes"),
        ):
            if not state.get(done):
                return {"action_type": action}
        # A fix whose re-run did not recover was aimed at a symptom: read the code.
        if (
            "has not recovered" in (observation.get("message") or "")
            and not state.get("code_inspected")
            and not any(p["action_type"] == "fix_code" for p in self.plan)
        ):
            self.plan = self.code_plan()
        if not self.plan:
            self.plan = self.decide(observation)
        action = self.plan.pop(0)
        if action["action_type"] == "fix_code":  # decided once the code is read
            snippet = observation.get("code_snippet") or {}
            fix = find_code_fix(snippet.get("code") or "")
            if fix is None:
                self.plan = [p for p in self.plan if p["action_type"] != "restart_run"]
                action = self.plan.pop(0)
            else:
                action = {"action_type": "fix_code", "line": fix[0], "replacement": fix[1]}
        if action["action_type"] == "restart_run" and "restart_run" not in (observation.get("available_actions") or []):
            action = self.plan.pop(0)
        return action

    @staticmethod
    def decide(obs: dict) -> list:
        grads = obs.get("gradient_stats") or []
        data = obs.get("data_batch_stats") or {}
        modes = obs.get("model_mode_info") or {}
        lr = float(obs.get("learning_rate") or 0.01)
        val_loss = _finite(obs.get("val_loss_history"))
        train_loss = _finite(obs.get("training_loss_history"))
        log = (obs.get("error_log") or "").lower()

        def fix(first: dict, label: str) -> list:
            return [first, {"action_type": "restart_run"}, {"action_type": "mark_diagnosed", "diagnosis": label}]

        if any(g.get("is_exploding") for g in grads) or "loss is inf" in log or "nan" in log:
            return fix({"action_type": "modify_config", "target": "learning_rate", "value": lr / 30}, "lr_too_high")
        if any(g.get("is_vanishing") for g in grads):
            return fix({"action_type": "modify_config", "target": "weight_init", "value": "kaiming"},
                       "vanishing_gradients")
        if (data.get("duplicate_ratio") or 0) > 0.1 or (data.get("class_overlap_score") or 0) > 0.2:
            return fix({"action_type": "patch_data_loader", "target": "remove_overlap"}, "data_leakage")
        if any(mode == "eval" for mode in modes.values()):
            return fix({"action_type": "fix_model_mode"}, "batchnorm_eval_mode")
        if len(val_loss) >= 6 and len(train_loss) >= 6:
            best = val_loss.index(min(val_loss))
            if best < len(val_loss) - 3 and val_loss[-1] > 1.1 * min(val_loss) and train_loss[-1] < train_loss[best]:
                return fix({"action_type": "add_callback", "target": "early_stopping"}, "overfitting")
        return HeuristicAgent.code_plan()

    @staticmethod
    def code_plan() -> list:
        return [{"action_type": "inspect_code"}, {"action_type": "fix_code"}, {"action_type": "restart_run"},
                {"action_type": "mark_diagnosed", "diagnosis": "code_bug"}]


AGENTS = {"random": RandomAgent, "heuristic": HeuristicAgent}


def make_agent(name: str) -> Agent:
    try:
        return AGENTS[name]()
    except KeyError:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(AGENTS)})") from None
