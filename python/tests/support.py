"""Shared by the tests: where the binary is, and the repository's paths."""

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "python" / "examples"


def binary() -> str:
    """The binary under test: $TRAINWRECK_BIN, else this checkout's release or
    debug build, else `trainwreck` on PATH. Missing is a failure, not a skip:
    these tests exist to drive the real server."""
    candidates = [
        os.environ.get("TRAINWRECK_BIN"),
        REPO / "target" / "release" / "trainwreck",
        REPO / "target" / "debug" / "trainwreck",
        shutil.which("trainwreck"),
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return str(c)
    raise RuntimeError("no trainwreck binary: run `cargo build --release` or set TRAINWRECK_BIN")


def use_binary() -> str:
    """Point $TRAINWRECK_BIN at the binary (Gym environments and subprocesses
    find it there) and put the examples on sys.path."""
    path = binary()
    os.environ["TRAINWRECK_BIN"] = path
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return path
