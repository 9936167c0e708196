"""Gymnasium spaces built from the JSON Schemas that ``{"type":"schema"}``
returns, and the encoders that turn a JSON observation into a member of them.

The rules, applied to each property of an object schema (in schema order):

* ``enum`` of strings → ``Discrete(len(enum))``: the index of the value.
* ``boolean`` → ``Discrete(2)``; ``[boolean, null]`` → ``Discrete(3)`` (2 = null).
* ``integer`` → ``Discrete`` when ``minimum`` and ``maximum`` bound it closely,
  else a scalar ``int64`` ``Box`` (``minimum`` or 0 up to ``maximum`` or 2⁵³).
* ``number`` (nullable or not) → a scalar ``float64`` ``Box``; an array of
  numbers → a ``float64`` ``Box`` of ``maxItems`` (default
  :data:`DEFAULT_MAX_ITEMS`) entries, padded with 0. A nullable number or an
  array of them gets a sibling ``<name>_valid`` (``MultiBinary``: 1 where the
  value was present and finite, 0 where JSON had null or the array ended), so
  no NaN ever enters an observation.
* an array of string enums → ``MultiBinary(len(enum))``: which are present.
* an object with ``properties`` → ``Dict`` of the same rules.
* anything else (free strings, free objects, arrays of objects, nullable
  objects) → :class:`JsonText`: a string as itself (null as ``""``), any other
  value as compact JSON text.

Every space is bounded (no infinities), so ``check_env`` has nothing to warn
about.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import shared_memory as _shm

from ._schema import flat_variants as _variants
from ._schema import string_options as _string_options

#: Length of number arrays whose schema has no ``maxItems``: the most epochs a
#: run can be configured for (docs/TASKS.md: ``epochs`` 1–100).
DEFAULT_MAX_ITEMS = 100
#: Longest text a :class:`JsonText` holds by default.
DEFAULT_MAX_TEXT = 1 << 16
_FLOAT_MAX = float(np.finfo(np.float64).max)
#: Upper bound of an integer with no ``maximum`` (seeds, counts): the largest
#: integer a float64 holds exactly, since Gymnasium samples integer Boxes
#: through floats. Larger values (a seed ≥ 2**53) are clamped; the raw value is
#: in ``TrainwreckEnv.raw_observation``.
_INT_MAX = 2**53
#: Upper bound of an integer action parameter with no ``maximum`` (``line``:
#: a train.py is far shorter).
ACTION_MAX_INT = 999


class JsonText(spaces.Text):
    """A ``Text`` space whose members are any string up to ``max_length``
    characters (JSON text, notes, code: every Unicode character). Sampling
    draws from printable ASCII."""

    def __init__(self, max_length: int = DEFAULT_MAX_TEXT, *, seed: Any = None):
        super().__init__(max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"JsonText({self.max_length})"


# Shared memory for AsyncVectorEnv: Gymnasium stores Text as indices into its
# character set, which a JsonText does not bound; store code points + 1 (0 pads).
@_shm.create_shared_memory.register(JsonText)
def _create_json_text_memory(space: JsonText, n: int = 1, ctx: Any = None):
    import multiprocessing as mp

    return (ctx or mp).Array(np.dtype(np.int32).char, n * space.max_length)


class SharedTexts(Sequence):
    """The texts of a batch, read from shared memory when indexed. Gymnasium
    reads a shared observation buffer once and relies on numpy views to see
    later writes; a tuple of strings would never change, so this reads live,
    and a deep copy (what ``AsyncVectorEnv`` returns by default) is a plain
    tuple."""

    def __init__(self, shared_memory: Any, n: int, max_length: int):
        self._memory = shared_memory
        self._n = n
        self._max_length = max_length

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._n)))
        if not -self._n <= index < self._n:
            raise IndexError(index)
        row = np.frombuffer(self._memory.get_obj(), dtype=np.int32).reshape((self._n, self._max_length))[index]
        return "".join(chr(c - 1) for c in row[: int(np.count_nonzero(row))])

    def __deepcopy__(self, memo: dict) -> tuple:
        return tuple(self)

    def __eq__(self, other: Any) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __repr__(self) -> str:
        return repr(tuple(self))


@_shm.read_from_shared_memory.register(JsonText)
def _read_json_text_memory(space: JsonText, shared_memory: Any, n: int = 1):
    return SharedTexts(shared_memory, n, space.max_length)


@_shm.write_to_shared_memory.register(JsonText)
def _write_json_text_memory(space: JsonText, index: int, value: str, shared_memory: Any):
    size = space.max_length
    codes = np.zeros(size, dtype=np.int32)
    if value:
        codes[: len(value)] = np.frombuffer(value.encode("utf-32-le"), dtype=np.uint32).astype(np.int32) + 1
    destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    np.copyto(destination[index * size : (index + 1) * size], codes)


Encoder = Callable[[Any], Any]


def _types(schema: dict) -> set:
    t = schema.get("type")
    if t is None:
        return set()
    return set(t) if isinstance(t, list) else {t}


def _text(max_length: int = DEFAULT_MAX_TEXT) -> tuple[spaces.Space, Encoder]:
    def encode(value: Any) -> str:
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        if len(text) > max_length:
            raise ValueError(f"a text field of {len(text)} characters exceeds its space ({max_length})")
        return text

    return JsonText(max_length), encode


def _number_array(length: int) -> tuple[spaces.Space, Encoder, spaces.Space, Encoder]:
    def values(seq: Any) -> np.ndarray:
        out = np.zeros(length, dtype=np.float64)
        for i, v in enumerate((seq or [])[:length]):
            if isinstance(v, (int, float)) and np.isfinite(v):
                out[i] = v
        return out

    def valid(seq: Any) -> np.ndarray:
        out = np.zeros(length, dtype=np.int8)
        for i, v in enumerate((seq or [])[:length]):
            out[i] = isinstance(v, (int, float)) and bool(np.isfinite(v))
        return out

    box = spaces.Box(-_FLOAT_MAX, _FLOAT_MAX, shape=(length,), dtype=np.float64)
    return box, values, spaces.MultiBinary(length), valid


def translate(
    schema: dict, name: str = "", max_text: int = DEFAULT_MAX_TEXT
) -> list[tuple[str, spaces.Space, Callable[[dict], Any]]]:
    """Translate one property ``name`` with ``schema`` into one or two
    ``(key, space, encode(parent_object))`` entries. ``max_text`` bounds free
    strings whose schema has no ``maxLength``."""
    types = _types(schema)
    nullable = "null" in types
    types.discard("null")
    get = lambda obj: obj.get(name) if isinstance(obj, dict) else None  # noqa: E731

    enum = schema.get("enum")
    if enum and all(isinstance(e, str) for e in enum):
        index = {e: i for i, e in enumerate(enum)}
        return [(name, spaces.Discrete(len(enum)), lambda o: int(index.get(get(o), 0)))]
    if types == {"boolean"}:
        if nullable:
            return [(name, spaces.Discrete(3), lambda o: 2 if get(o) is None else int(bool(get(o))))]
        return [(name, spaces.Discrete(2), lambda o: int(bool(get(o))))]
    if types == {"integer"}:
        lo = int(schema.get("minimum", 0))
        hi = schema.get("maximum")
        if hi is not None and int(hi) - lo <= 100_000:
            return [(name, spaces.Discrete(int(hi) - lo + 1, start=lo), lambda o: int(get(o) or lo))]
        hi = int(hi) if hi is not None else _INT_MAX
        box = spaces.Box(lo, hi, shape=(), dtype=np.int64)
        return [(name, box, lambda o: np.array(min(max(int(get(o) or lo), lo), hi), dtype=np.int64))]
    if types <= {"number", "integer"} and "number" in types:
        box = spaces.Box(-_FLOAT_MAX, _FLOAT_MAX, shape=(), dtype=np.float64)

        def scalar(o: Any) -> np.ndarray:
            v = get(o)
            return np.array(v if isinstance(v, (int, float)) and np.isfinite(v) else 0.0, dtype=np.float64)

        entries = [(name, box, scalar)]
        if nullable:
            entries.append(
                (f"{name}_valid", spaces.Discrete(2), lambda o: int(isinstance(get(o), (int, float))))
            )
        return entries
    if types == {"array"} and not nullable:
        items = schema.get("items", {})
        item_types = _types(items)
        item_enum = items.get("enum")
        if item_enum and all(isinstance(e, str) for e in item_enum):
            members = list(item_enum)
            return [
                (
                    name,
                    spaces.MultiBinary(len(members)),
                    lambda o: np.array([int(m in (get(o) or [])) for m in members], dtype=np.int8),
                )
            ]
        numeric = item_types - {"null"}
        if numeric and numeric <= {"number", "integer"}:
            length = int(schema.get("maxItems", DEFAULT_MAX_ITEMS))
            box, values, mask, valid = _number_array(length)
            return [
                (name, box, lambda o: values(get(o))),
                (f"{name}_valid", mask, lambda o: valid(get(o))),
            ]
    if types == {"object"} and not nullable and schema.get("properties"):
        space, encode = object_space(schema, max_text)
        return [(name, space, lambda o: encode(get(o) or {}))]
    space, encode_text = _text(int(schema.get("maxLength", max_text)))
    return [(name, space, lambda o: encode_text(get(o)))]


def object_space(schema: dict, max_text: int = DEFAULT_MAX_TEXT) -> tuple[spaces.Dict, Callable[[dict], dict]]:
    """A ``Dict`` space for an object schema, and its encoder."""
    entries = []
    for prop, sub in (schema.get("properties") or {}).items():
        entries.extend(translate(sub, prop, max_text))
    space = spaces.Dict({key: s for key, s, _ in entries})

    def encode(obj: dict) -> dict:
        return {key: enc(obj) for key, _, enc in entries}

    return space, encode


#: Longest free-text action parameter an action-space sample draws.
ACTION_MAX_TEXT = 256


def action_space(schema: dict) -> tuple[spaces.Dict, Callable[[dict], dict], tuple]:
    """The ``Dict`` action space for the action schema, the decoder that turns
    one of its samples back into a protocol action, and the action types in
    schema order.

    ``action_type`` is a ``Discrete`` index. Every parameter of any action is
    a key: a ``Discrete`` index when all its schemas are closed string sets
    (targets, callbacks, labels: their union, in schema order), a ``Discrete``
    or ``Box`` when it is an integer (``line``), else :class:`JsonText`, read
    as JSON when it parses as a number or boolean (``"0.001"`` → 0.001) and as
    the string otherwise; an empty text means "absent". The decoder sends only
    the parameters the chosen action declares."""
    variants = _variants(schema)
    action_types: list = []
    params_of: dict = {}
    schemas_of: dict = {}
    for v in variants:
        kinds = _string_options(v.get("action_type", {})) or []
        for kind in kinds:
            if kind not in action_types:
                action_types.append(kind)
            params_of.setdefault(kind, [])
            for name in v:
                if name != "action_type" and name not in params_of[kind]:
                    params_of[kind].append(name)
        for name, sub in v.items():
            if name != "action_type":
                schemas_of.setdefault(name, []).append(sub)

    members: dict = {"action_type": spaces.Discrete(len(action_types))}
    decoders: dict = {}
    for name, subs in schemas_of.items():
        options = [_string_options(sub) for sub in subs]
        types = set().union(*(_types(sub) for sub in subs)) - {"null"}
        if all(o is not None for o in options):
            union = list(dict.fromkeys(x for o in options for x in o))
            members[name] = spaces.Discrete(len(union))
            decoders[name] = lambda v, union=union: union[int(v)]
        elif types == {"integer"}:
            lo = min(int(sub.get("minimum", 0)) for sub in subs)
            highs = [sub.get("maximum") for sub in subs]
            hi = max(int(h) for h in highs) if all(h is not None for h in highs) else ACTION_MAX_INT
            members[name] = spaces.Box(lo, hi, shape=(), dtype=np.int64)
            decoders[name] = lambda v: int(v)
        else:
            members[name] = JsonText(ACTION_MAX_TEXT)

            def read(v: Any, types: set = types) -> Any:
                if not isinstance(v, str) or v == "":
                    return None
                if types - {"string"}:
                    try:
                        parsed = json.loads(v)
                    except ValueError:
                        return v
                    if isinstance(parsed, bool) and "boolean" in types:
                        return parsed
                    if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) and types & {"number", "integer"}:
                        return parsed
                return v

            decoders[name] = read

    def decode(sample: dict) -> dict:
        kind = action_types[int(sample["action_type"])]
        action: dict = {"action_type": kind}
        for name in params_of.get(kind, []):
            if name in sample:
                value = decoders[name](sample[name])
                if value is not None:
                    action[name] = value
        return action

    return spaces.Dict(members), decode, tuple(action_types)
