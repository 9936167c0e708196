"""A client for ``trainwreck --serve``: one server process, one JSON line per
request and per reply, typed results, protocol errors raised as exceptions.

Standard library only. The process is started with ordinary (buffered) pipes:
an unbuffered ``bufsize=0`` pipe makes ``readline`` read one byte per system
call, which made a hand-written client three times slower. Every request is
flushed as it is written, so buffering never delays a reply.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "Client",
    "TrainwreckError",
    "ProtocolError",
    "ServerError",
    "StepResult",
    "State",
    "Grade",
    "TaskInfo",
    "find_binary",
    "BUILTIN_TASKS",
    "ORIGIN_TASKS",
    "MYSTERY",
]

from ._catalogue import BUILTIN_TASKS  # noqa: E402  (generated; a Rust test keeps it in step)

#: The origin environment's six tasks, which every release keeps.
ORIGIN_TASKS = ("task_001", "task_002", "task_003", "task_004", "task_005", "task_006")

#: The task id that asks for a mystery episode: the seed draws a task from
#: the catalogue and the observation hides which until the episode is done.
MYSTERY = "mystery"


class TrainwreckError(Exception):
    """Base class of everything this package raises."""


class ProtocolError(TrainwreckError):
    """The server refused a request with an ``error`` reply."""

    def __init__(self, code: str, message: str, field: str | None = None, request_id: Any = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id


class ServerError(TrainwreckError):
    """The server process could not be started, exited, or broke the protocol."""


@dataclass(frozen=True)
class StepResult:
    """The reply to ``reset`` or ``step``."""

    observation: dict
    reward: float
    done: bool
    info: dict = field(default_factory=dict)
    #: Training events that came before the reply (only when subscribed).
    events: tuple = ()

    @property
    def terminated(self) -> bool:
        """Ended by ``mark_diagnosed``."""
        return bool(self.info.get("terminated", False))

    @property
    def truncated(self) -> bool:
        """Ended by reaching ``max_steps``."""
        return bool(self.info.get("truncated", False))

    @property
    def score(self) -> float | None:
        """The episode score (0–1) once the episode is done."""
        return self.info.get("score")


@dataclass(frozen=True)
class State:
    task_id: str
    seed: int
    run_id: str
    step_count: int
    max_steps: int
    done: bool
    terminated: bool
    truncated: bool
    total_reward: float
    score: float
    available_actions: list
    episode_state: dict
    raw: dict

    @classmethod
    def from_data(cls, data: dict) -> "State":
        names = [f for f in cls.__dataclass_fields__ if f != "raw"]
        return cls(**{n: data.get(n) for n in names}, raw=data)


@dataclass(frozen=True)
class Grade:
    task_id: str
    score: float
    steps: int
    done: bool
    total_reward: float
    breakdown: list
    debrief: dict | None
    raw: dict
    #: For a mystery once done: ``{"task_id", "title", "category"}``.
    unmasked: dict | None = None

    @classmethod
    def from_data(cls, data: dict) -> "Grade":
        names = [f for f in cls.__dataclass_fields__ if f != "raw"]
        return cls(**{n: data.get(n) for n in names}, raw=data)


@dataclass(frozen=True)
class TaskInfo:
    id: str
    title: str
    difficulty: str
    max_steps: int
    variants: int
    summary: str
    origin: str
    #: The root-cause label the task teaches.
    category: str | None = None
    #: Where its fault lives: ``data``, ``optimisation`` or ``program``.
    group: str | None = None

    @classmethod
    def from_data(cls, data: dict) -> "TaskInfo":
        names = list(cls.__dataclass_fields__)
        return cls(**{n: data.get(n) for n in names})


def find_binary(binary: str | os.PathLike | None = None) -> str:
    """The ``trainwreck`` executable: ``binary`` if given, else
    ``$TRAINWRECK_BIN``, else ``trainwreck`` on ``PATH``."""
    candidate = binary or os.environ.get("TRAINWRECK_BIN")
    if candidate:
        path = shutil.which(str(candidate)) or (str(candidate) if os.path.isfile(candidate) else None)
        if path is None:
            raise ServerError(f"trainwreck binary not found: {candidate}")
        return path
    path = shutil.which("trainwreck")
    if path is None:
        raise ServerError(
            "trainwreck binary not found on PATH; install it (cargo install --path .) "
            "or pass binary=... or set TRAINWRECK_BIN"
        )
    return path


class Client:
    """One ``trainwreck --serve`` process.

    >>> with Client() as tw:                       # doctest: +SKIP
    ...     tw.reset("task_001", seed=42)
    ...     tw.step("inspect_gradients")
    """

    def __init__(
        self,
        binary: str | os.PathLike | None = None,
        *,
        tasks_dirs: Sequence[str | os.PathLike] = (),
        events: bool = False,
        float_digits: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ):
        self.binary = find_binary(binary)
        args = [self.binary, "--serve"]
        for d in tasks_dirs:
            args += ["--tasks-dir", os.fspath(d)]
        if events:
            args.append("--events")
        if float_digits is not None:
            args += ["--float-digits", str(int(float_digits))]
        args += list(extra_args)
        self.args = args
        self._next_id = 0
        self._schema: dict | None = None
        # stderr goes to a file, not a pipe: nobody reads it while the session
        # runs, and a full pipe would block the server.
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=None if env is None else dict(env),
            )
        except OSError as e:
            self._stderr.close()
            raise ServerError(f"cannot start {args[0]}: {e}") from e
        self._closed = False

    # -- plumbing ---------------------------------------------------------

    def _stderr_text(self) -> str:
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _dead(self, what: str) -> ServerError:
        code = self._proc.poll()
        err = self._stderr_text()
        detail = f" (exit status {code})" if code is not None else ""
        return ServerError(f"{what}{detail}" + (f": {err}" if err else ""))

    def request(self, kind: str, data: Any = None) -> tuple[dict, list]:
        """Send one request; return its reply (as a dict) and the event lines
        that came before it. An ``error`` reply raises :class:`ProtocolError`."""
        if self._closed:
            raise ServerError("the client is closed")
        self._next_id += 1
        request_id = self._next_id
        message: dict = {"type": kind, "id": request_id}
        if data is not None:
            message["data"] = data
        line = json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        try:
            self._proc.stdin.write(line)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise self._dead(f"the server is gone ({e})") from e
        events = []
        while True:
            raw = self._proc.stdout.readline()
            if not raw:
                raise self._dead("the server closed its output")
            try:
                reply = json.loads(raw)
            except ValueError as e:
                raise ServerError(f"the server sent a line that is not JSON: {raw[:200]!r}") from e
            if reply.get("type") == "event":
                events.append(reply.get("data", {}))
                continue
            if reply.get("id") != request_id:
                raise ServerError(f"reply out of step: expected id {request_id}, got {reply.get('id')!r}")
            if reply.get("type") == "error":
                d = reply.get("data", {})
                raise ProtocolError(d.get("code", "?"), d.get("message", ""), d.get("field"), request_id)
            return reply, events

    def _expect(self, kind: str, data: Any, reply_type: str) -> tuple[dict, list]:
        reply, events = self.request(kind, data)
        if reply.get("type") != reply_type:
            raise ServerError(f"expected a '{reply_type}' reply to '{kind}', got '{reply.get('type')}'")
        return reply.get("data", {}), events

    @staticmethod
    def _step_result(data: dict, events: list) -> StepResult:
        return StepResult(
            observation=data.get("observation", {}),
            reward=float(data.get("reward", 0.0)),
            done=bool(data.get("done", False)),
            info=data.get("info") or {},
            events=tuple(events),
        )

    # -- the protocol -----------------------------------------------------

    def reset(self, task_id: str | None = None, seed: int | None = None) -> StepResult:
        """Start an episode (``task_id`` and ``seed`` default on the server)."""
        data = {}
        if task_id is not None:
            data["task_id"] = task_id
        if seed is not None:
            data["seed"] = int(seed)
        return self._step_result(*self._expect("reset", data, "observation"))

    def step(self, action: str | Mapping[str, Any], **params: Any) -> StepResult:
        """Take one action: ``step("inspect_code")``,
        ``step("fix_code", line=14, replacement="optimizer.zero_grad()")`` or
        ``step({"action_type": "restart_run"})``."""
        if isinstance(action, str):
            data = {"action_type": action, **params}
        else:
            data = {**dict(action), **params}
        return self._step_result(*self._expect("step", data, "observation"))

    def state(self) -> State:
        return State.from_data(self._expect("state", None, "state")[0])

    def grade(self) -> Grade:
        return Grade.from_data(self._expect("grade", None, "grade")[0])

    def tasks(self) -> list[TaskInfo]:
        data = self._expect("tasks", None, "tasks")[0]
        return [TaskInfo.from_data(t) for t in data.get("tasks", [])]

    def schema(self) -> dict:
        """JSON Schemas of the action, the observation and every reply (asked
        once per server process: a binary's schema does not change)."""
        if self._schema is None:
            self._schema = self._expect("schema", None, "schema")[0]
        return self._schema

    def render(self, format: str = "text") -> str:
        """The compact text view of the current observation (for an LLM)."""
        return self._expect("render", {"format": format}, "render")[0]["text"]

    def subscribe(self, events: str | Iterable[str] = "all") -> list[str]:
        sel = events if isinstance(events, str) else list(events)
        return self._expect("subscribe", {"events": sel}, "subscribed")[0]["events"]

    def unsubscribe(self, events: str | Iterable[str] = "all") -> list[str]:
        sel = events if isinstance(events, str) else list(events)
        return self._expect("unsubscribe", {"events": sel}, "unsubscribed")[0]["events"]

    # -- lifetime ---------------------------------------------------------

    def close(self, timeout: float = 5.0) -> int | None:
        """Send ``close`` and wait for the process; kill it if it does not
        exit within ``timeout`` seconds. Safe to call twice."""
        if self._closed:
            return self._proc.returncode
        self._closed = True
        try:
            self._proc.stdin.write(b'{"type":"close"}\n')
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the server is already gone: waiting below reaps it
        finally:
            try:
                self._proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        finally:
            self._proc.stdout.close()
            self._stderr.close()
        return self._proc.returncode

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close(timeout=1.0)
        except Exception:
            pass
