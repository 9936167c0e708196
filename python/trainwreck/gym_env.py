"""A Gymnasium environment over ``trainwreck --serve`` (extra ``[gym]``).

Importing this module registers ``trainwreck/Debug-v0`` (the task is
``options["task_id"]`` at reset, else drawn from the environment's RNG),
``trainwreck/Mystery-v0`` (every reset is a mystery: the seed draws the task
from the catalogue, and ``info["unmasked"]`` says which once it is done) and
``trainwreck/<task_id>-v0`` for each built-in task::

    import gymnasium as gym
    import trainwreck.gym_env  # noqa: F401  (registers the ids)

    env = gym.make("trainwreck/task_003-v0", render_mode="ansi")
    obs, info = env.reset(seed=42)
    obs, reward, terminated, truncated, info = env.step({"action_type": "inspect_data_batch"})

Spaces come from the server's own JSON Schemas (:mod:`trainwreck.spaces`).
The observation also has ``action_mask`` (``MultiBinary``, one entry per
``action_type`` in schema order: 1 when it is available now). ``info`` carries
the step's ``info`` from the server (``invalid``, ``verdict`` after a restart,
``score`` when done) plus ``task_id`` and ``seed``; :attr:`TrainwreckEnv.raw_observation`
is the last observation as the server sent it. Each environment owns one server process; ``close()`` ends
it.

``step`` accepts an action-space sample (``action_type`` as an index), a
protocol action (``{"action_type": "fix_code", "line": 14, ...}``), or a
string: JSON text of such an action or a bare action type.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces as gym_spaces

from .client import BUILTIN_TASKS, MYSTERY, Client
from .spaces import action_space, object_space

__all__ = ["TrainwreckEnv", "BUILTIN_TASKS", "register_envs"]

#: Episode seeds drawn by the environment's RNG when ``reset`` gets none.
_SEED_RANGE = 2**31


class TrainwreckEnv(gym.Env):
    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        task_id: str | None = None,
        render_mode: str | None = None,
        *,
        binary: str | os.PathLike | None = None,
        tasks_dirs: Sequence[str | os.PathLike] = (),
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self._client = Client(binary, tasks_dirs=tasks_dirs)
        try:
            schema = self._client.schema()
            self.task_ids = tuple(t.id for t in self._client.tasks())
        except Exception:
            self._client.close()
            raise
        if task_id is not None and task_id not in self.task_ids and task_id != MYSTERY:
            self._client.close()
            raise ValueError(f"unknown task {task_id!r} (known: {', '.join(self.task_ids)})")
        self.task_id = task_id
        self.action_space, self._decode, self._action_types = action_space(schema["action"])
        obs_space, self._encode = object_space(schema["observation"])
        self.observation_space = gym_spaces.Dict(
            {**obs_space.spaces, "action_mask": gym_spaces.MultiBinary(len(self._action_types))}
        )
        self._episode: tuple[str, int] | None = None
        #: The last observation as the server sent it (JSON as a dict).
        self.raw_observation: dict | None = None

    # -- helpers ----------------------------------------------------------

    def _observe(self, observation: dict) -> dict:
        obs = self._encode(observation)
        available = set(observation.get("available_actions") or [])
        obs["action_mask"] = np.array([int(a in available) for a in self._action_types], dtype=np.int8)
        return obs

    def _info(self, step_info: Mapping[str, Any]) -> dict:
        task_id, seed = self._episode or (None, None)
        return {**step_info, "task_id": task_id, "seed": seed}

    def to_action(self, action: Any) -> dict:
        """The protocol action for any form ``step`` accepts."""
        if isinstance(action, str):
            text = action.strip()
            if text.startswith("{"):
                action = json.loads(text)
            else:
                return {"action_type": text}
        if isinstance(action, Mapping):
            if isinstance(action.get("action_type"), str):
                return {k: v for k, v in action.items() if v is not None}
            return self._decode(dict(action))
        raise TypeError(f"an action is a dict or a string, not {type(action).__name__}")

    # -- the Gymnasium API ------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        task_id = options.get("task_id") or self.task_id
        if task_id is None:
            task_id = self.task_ids[int(self.np_random.integers(len(self.task_ids)))]
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(_SEED_RANGE))
        result = self._client.reset(task_id, episode_seed)
        self._episode = (task_id, episode_seed)
        self.raw_observation = result.observation
        return self._observe(result.observation), self._info({})

    def step(self, action: Any):
        result = self._client.step(self.to_action(action))
        self.raw_observation = result.observation
        obs = self._observe(result.observation)
        info = self._info(result.info)
        if (result.terminated or result.truncated) and result.observation.get("task_id") == MYSTERY:
            info["unmasked"] = self._client.grade().unmasked
        return obs, result.reward, result.terminated, result.truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return self._client.render()
        return None

    def close(self):
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        super().close()


def register_envs() -> None:
    """Register ``trainwreck/Debug-v0`` and ``trainwreck/<task>-v0`` for each
    built-in task (idempotent)."""
    entry = "trainwreck.gym_env:TrainwreckEnv"
    if "trainwreck/Debug-v0" not in gym.registry:
        gym.register(id="trainwreck/Debug-v0", entry_point=entry)
    if "trainwreck/Mystery-v0" not in gym.registry:
        gym.register(id="trainwreck/Mystery-v0", entry_point=entry, kwargs={"task_id": MYSTERY})
    for task in BUILTIN_TASKS:
        env_id = f"trainwreck/{task}-v0"
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry, kwargs={"task_id": task})


register_envs()
