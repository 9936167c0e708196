"""Playing episodes and ranking agents: the work an evaluation fans out
(:func:`play_many` over one server process) and the table it gathers
(:func:`leaderboard`). Standard library only; ``examples/ray_eval.py`` runs
:func:`play_many` as Ray tasks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from .agents import Agent, make_agent
from .client import Client

__all__ = ["EpisodeResult", "play", "play_many", "leaderboard", "format_leaderboard", "SUCCESS_SCORE"]

#: An episode counts as a success at this score or above.
SUCCESS_SCORE = 0.7


@dataclass(frozen=True)
class EpisodeResult:
    agent: str
    task_id: str
    seed: int
    score: float
    total_reward: float
    steps: int
    invalid_actions: int

    def as_dict(self) -> dict:
        return asdict(self)


def play(client: Client, agent: Agent, task_id: str, seed: int) -> EpisodeResult:
    """One episode of ``agent`` on ``task_id``/``seed`` until it is done."""
    if hasattr(agent, "attach"):
        agent.attach(client.schema())
    if hasattr(agent, "reset"):
        agent.reset(task_id, seed)
    result = client.reset(task_id, seed)
    total, steps, invalid = 0.0, 0, 0
    while not result.done:
        result = client.step(agent.act(result.observation))
        total += result.reward
        steps += 1
        invalid += bool(result.info.get("invalid"))
    return EpisodeResult(
        agent=agent.name,
        task_id=task_id,
        seed=seed,
        score=float(result.score or 0.0),
        total_reward=round(total, 6),
        steps=steps,
        invalid_actions=invalid,
    )


def play_many(
    jobs: Iterable[tuple[str, str, int]], binary: str | None = None
) -> list[EpisodeResult]:
    """Play ``(agent name, task_id, seed)`` episodes on one server process."""
    with Client(binary) as client:
        return [play(client, make_agent(agent), task_id, seed) for agent, task_id, seed in jobs]


def _mean_ci(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, 1.96 * sd / math.sqrt(n)


def leaderboard(results: Iterable[EpisodeResult]) -> list[dict]:
    """Rows per agent and task, then one ``task == "all"`` row per agent:
    episodes, mean score with its 95% interval, success rate, mean steps,
    mean reward. Agents ranked by overall mean score; order of ``results``
    does not matter."""
    groups: dict = {}
    for r in results:
        for key in ((r.agent, r.task_id), (r.agent, "all")):
            groups.setdefault(key, []).append(r)
    rows = []
    for (agent, task), rs in groups.items():
        mean, ci = _mean_ci([r.score for r in rs])
        rows.append(
            {
                "agent": agent,
                "task": task,
                "episodes": len(rs),
                "mean_score": round(mean, 4),
                "ci95": round(ci, 4),
                "success_rate": round(sum(r.score >= SUCCESS_SCORE for r in rs) / len(rs), 4),
                "mean_steps": round(sum(r.steps for r in rs) / len(rs), 2),
                "mean_reward": round(sum(r.total_reward for r in rs) / len(rs), 4),
            }
        )
    overall = {row["agent"]: row["mean_score"] for row in rows if row["task"] == "all"}
    rows.sort(key=lambda row: (-overall[row["agent"]], row["agent"], row["task"] == "all", row["task"]))
    return rows


def format_leaderboard(rows: Sequence[dict]) -> str:
    """The leaderboard as a Markdown table."""
    out = [
        "| agent | task | episodes | mean score (95% CI) | success | mean steps | mean reward |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        task = "**all**" if r["task"] == "all" else r["task"]
        out.append(
            f"| {r['agent']} | {task} | {r['episodes']} | {r['mean_score']:.3f} ± {r['ci95']:.3f} "
            f"| {r['success_rate']:.0%} | {r['mean_steps']:.1f} | {r['mean_reward']:+.3f} |"
        )
    return "\n".join(out)
