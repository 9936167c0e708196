"""Evaluate agents at scale on Ray: task × seed × agent, fanned out as Ray
tasks, each playing its episodes on its own ``trainwreck --serve`` process,
gathered into one leaderboard.

    python ray_eval.py --agents heuristic random --seeds 1-50            # a laptop
    RAY_ADDRESS=auto python ray_eval.py --seeds 1-100000 --chunk 500     # a cluster

The same code runs on a laptop (``ray.init()`` starts a local instance) and on
a cluster (``ray.init()`` joins the one named by ``RAY_ADDRESS``). Every node
needs the ``trainwreck`` binary on ``PATH`` or in ``$TRAINWRECK_BIN`` and this
package installed (``pip install ./python``, or a ``runtime_env``). Episodes are
deterministic per (task, seed, agent), so the leaderboard does not depend on
how the work was split or where it ran: ``--no-ray`` computes the same table in
one process, and a test checks that it does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterable, Sequence

from trainwreck import BUILTIN_TASKS
from trainwreck.evaluate import EpisodeResult, format_leaderboard, leaderboard, play_many


def episodes(agents: Sequence[str], tasks: Sequence[str], seeds: Iterable[int]) -> list[tuple[str, str, int]]:
    """Every (agent, task, seed), in a fixed order."""
    seeds = list(seeds)
    return [(a, t, s) for a in agents for t in tasks for s in seeds]


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def run_local(jobs: list, binary: str | None = None) -> list[EpisodeResult]:
    return play_many(jobs, binary)


def run_ray(jobs: list, chunk: int = 25, binary: str | None = None, num_cpus: int | None = None) -> list[EpisodeResult]:
    """Each chunk of ``chunk`` episodes is one Ray task with its own server
    process (a chunk amortises the process start, ~1 ms, and Ray's per-task
    overhead, ~1 ms, over its episodes)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    remote_play = ray.remote(num_cpus=1)(play_many)
    refs = [remote_play.remote(part, binary) for part in chunks(jobs, chunk)]
    results: list[EpisodeResult] = []
    for part in ray.get(refs):
        results.extend(part)
    return results


def parse_seeds(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="+", default=["heuristic", "random"])
    parser.add_argument("--tasks", nargs="+", default=list(BUILTIN_TASKS))
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("1-20"), help="e.g. 1-50")
    parser.add_argument("--chunk", type=int, default=25, help="episodes per Ray task")
    parser.add_argument("--num-cpus", type=int, default=None, help="for a local Ray instance")
    parser.add_argument("--binary", default=os.environ.get("TRAINWRECK_BIN"))
    parser.add_argument("--no-ray", action="store_true", help="play everything in this process")
    parser.add_argument("--json", metavar="FILE", help="also write every episode result as JSON")
    args = parser.parse_args(argv)

    jobs = episodes(args.agents, args.tasks, args.seeds)
    if args.no_ray:
        results = run_local(jobs, args.binary)
    else:
        results = run_ray(jobs, args.chunk, args.binary, args.num_cpus)
    print(format_leaderboard(leaderboard(results)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([r.as_dict() for r in results], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
