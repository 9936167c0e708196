"""trainwreck from Python: a client for ``trainwreck --serve`` (standard
library only) and, with the ``[gym]`` extra, a Gymnasium environment
(``import trainwreck.gym_env`` registers ``trainwreck/Debug-v0``,
``trainwreck/Mystery-v0`` and one id per built-in task)."""

from .client import (
    BUILTIN_TASKS,
    MYSTERY,
    ORIGIN_TASKS,
    Client,
    Grade,
    ProtocolError,
    ServerError,
    State,
    StepResult,
    TaskInfo,
    TrainwreckError,
    find_binary,
)

__all__ = [
    "BUILTIN_TASKS",
    "MYSTERY",
    "ORIGIN_TASKS",
    "Client",
    "Grade",
    "ProtocolError",
    "ServerError",
    "State",
    "StepResult",
    "TaskInfo",
    "TrainwreckError",
    "find_binary",
]
__version__ = "0.1.0"
