"""Token cost of one episode as an LLM agent reads it: the JSON protocol
(full precision, and with ``--float-digits 4``) against the ``render`` text
view. Tokens are estimated as bytes / 4.

The episode is the same on every task: reset, the five inspections, one
config change, a diagnosis (7 steps). Run: ``python token_budget.py`` (the
``trainwreck`` binary on PATH or in ``$TRAINWRECK_BIN``).
"""

from __future__ import annotations

import json
import sys

from trainwreck import BUILTIN_TASKS, Client

EPISODE = [
    {"action_type": "inspect_gradients"},
    {"action_type": "inspect_data_batch"},
    {"action_type": "inspect_model_modes"},
    {"action_type": "inspect_model_weights"},
    {"action_type": "inspect_code"},
    {"action_type": "modify_config", "target": "learning_rate", "value": 0.001},
    {"action_type": "mark_diagnosed", "diagnosis": "lr_too_high"},
]
SEED = 7


def _line(obj: dict) -> int:
    return len(json.dumps(obj, separators=(",", ":")).encode()) + 1


def json_bytes(client: Client, task_id: str) -> int:
    """Bytes of every request and reply line of the episode."""
    total = 0
    for kind, data in [("reset", {"task_id": task_id, "seed": SEED})] + [("step", a) for a in EPISODE]:
        reply, _ = client.request(kind, data)
        total += _line({"type": kind, "id": 0, "data": data}) + _line(reply)
    return total


def text_bytes(client: Client, task_id: str) -> int:
    """Bytes of every action line the model writes and view it reads."""
    client.reset(task_id, SEED)
    total = len(client.render().encode())
    for action in EPISODE:
        client.step(action)
        total += _line(action) + len(client.render().encode())
    return total


def measure(binary: str | None = None) -> list[dict]:
    rows = []
    with Client(binary) as full, Client(binary, float_digits=4) as rounded, Client(binary) as text:
        for task_id in BUILTIN_TASKS:
            rows.append(
                {
                    "task": task_id,
                    "json": json_bytes(full, task_id) // 4,
                    "json4": json_bytes(rounded, task_id) // 4,
                    "text": text_bytes(text, task_id) // 4,
                }
            )
    return rows


def table(rows: list[dict]) -> str:
    out = [
        "| task | JSON | JSON, `--float-digits 4` | text view | text / JSON |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows + [
        {"task": "**all six**", **{k: sum(r[k] for r in rows) for k in ("json", "json4", "text")}}
    ]:
        out.append(
            f"| {r['task']} | {r['json']:,} | {r['json4']:,} | {r['text']:,} | {r['text'] / r['json']:.0%} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(table(measure(sys.argv[1] if len(sys.argv) > 1 else None)))
