"""Reading the protocol's JSON Schemas (``{"type":"schema"}``) with the
standard library only: the flat variants of a schema with ``oneOf`` branches
and the closed string sets a schema allows. :mod:`trainwreck.spaces` builds
Gymnasium spaces from them; :class:`trainwreck.agents.RandomAgent` samples
actions from them, so neither keeps its own list of labels or targets.
"""

from __future__ import annotations

__all__ = ["flat_variants", "string_options", "action_variants"]


def flat_variants(schema: dict, inherited: dict | None = None) -> list[dict]:
    """The flat variants of a schema with ``oneOf``/``anyOf`` branches: each
    branch's properties merged with those of the objects around it."""
    props = {**(inherited or {}), **(schema.get("properties") or {})}
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return [props]
    return [v for branch in branches for v in flat_variants(branch, props)]


def _required_variants(schema: dict, inherited: frozenset = frozenset()) -> list[frozenset]:
    """The required property names of each flat variant, in the same order."""
    required = inherited | frozenset(schema.get("required") or ())
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return [required]
    return [r for branch in branches for r in _required_variants(branch, required)]


def string_options(schema: dict) -> list | None:
    """The strings a schema allows, when it is a closed set."""
    if isinstance(schema.get("const"), str):
        return [schema["const"]]
    if schema.get("enum") and all(isinstance(e, str) for e in schema["enum"]):
        return list(schema["enum"])
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        options = [string_options(b) for b in branches]
        if all(o is not None for o in options):
            return [x for o in options for x in o]
    return None


def action_variants(action_schema: dict) -> dict[str, list[tuple[dict, frozenset]]]:
    """Action type → its flat variants, each ``(parameter schemas, required
    parameter names)`` (``modify_config`` has one variant per target)."""
    out: dict = {}
    for props, required in zip(flat_variants(action_schema), _required_variants(action_schema)):
        params = {name: sub for name, sub in props.items() if name != "action_type"}
        for kind in string_options(props.get("action_type", {})) or []:
            out.setdefault(kind, []).append((params, required - {"action_type"}))
    return out
