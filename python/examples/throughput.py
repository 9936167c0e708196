"""Throughput of evaluation, as docs/SCALING.md reports it: CPU seconds per
episode in the server and in the Python client, episodes per core-second, and
the cost of starting a server. CPU time, not wall time, so a busy machine
still measures the same work.

Run: ``python throughput.py [EPISODES_PER_AGENT]``.
"""

from __future__ import annotations

import resource
import sys
import time

from trainwreck import BUILTIN_TASKS, Client
from trainwreck.agents import make_agent
from trainwreck.evaluate import play


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(agent: str, episodes: int, binary: str | None = None) -> dict:
    jobs = [(BUILTIN_TASKS[i % len(BUILTIN_TASKS)], i // len(BUILTIN_TASKS) + 1) for i in range(episodes)]
    server0, client0, wall0 = children_cpu(), self_cpu(), time.perf_counter()
    steps = 0
    with Client(binary) as tw:  # the server's CPU is counted when it exits
        for task, seed in jobs:
            steps += play(tw, make_agent(agent), task, seed).steps
    server, client, wall = children_cpu() - server0, self_cpu() - client0, time.perf_counter() - wall0
    return {
        "agent": agent,
        "episodes": episodes,
        "steps_per_episode": steps / episodes,
        "server_ms": 1000 * server / episodes,
        "client_ms": 1000 * client / episodes,
        "episodes_per_core_s": episodes / (server + client),
        "wall_s": wall,
    }


def startup(binary: str | None = None, n: int = 20) -> float:
    """Milliseconds (wall) from starting a server to its first reply."""
    total = 0.0
    for _ in range(n):
        t = time.perf_counter()
        with Client(binary) as tw:
            tw.tasks()
            total += time.perf_counter() - t
    return 1000 * total / n


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    for agent in ("heuristic", "random"):
        r = measure(agent, n)
        print(
            f"{agent}: {r['episodes']} episodes, {r['steps_per_episode']:.1f} steps each; "
            f"server {r['server_ms']:.2f} ms + client {r['client_ms']:.2f} ms CPU per episode "
            f"= {r['episodes_per_core_s']:.0f} episodes per core-second (wall {r['wall_s']:.1f} s)"
        )
    print(f"server start to first reply: {startup():.1f} ms")
