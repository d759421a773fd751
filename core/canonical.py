"""Canonical JSON: one byte sequence per value, so that equal things get equal sha256 digests.

Spec hashes, environment fingerprints and result digests in run manifests are all sha256 over the
canonical JSON produced here. The rules (version ``charter-canonical-v1``) are part of the manifest
format and must not change silently:

- mappings are written with sorted keys, no whitespace, UTF-8 (``ensure_ascii=False``);
- tuples and lists are lists; sets and frozensets are sorted lists;
- floats are rounded to 12 significant digits (``format(x, ".12g")``), so that the last bits that a
  parallel sum leaves to thread scheduling do not change a digest; a float with an integral value
  becomes an int (``2.0`` -> ``2``) so that an engine returning DOUBLE where another returns BIGINT
  gives the same digest; ``-0.0`` is ``0``; NaN and infinities are the strings ``"NaN"``,
  ``"Infinity"`` and ``"-Infinity"``; ``Decimal`` values are treated as floats;
- dates, times and datetimes are ISO 8601 strings; timedeltas are their total seconds;
- bytes are lower-case hex; anything else is ``str(value)``.

Digests are an equality test, not the comparison: where two digests differ, the values stored in the
manifests are compared one by one with the project's relative tolerance (1e-9) to say what differs.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

CANONICAL_VERSION = "charter-canonical-v1"
SIGNIFICANT_DIGITS = 12
RELATIVE_TOLERANCE = 1e-9


def normalise(value: Any) -> Any:
    """Turn ``value`` into plain JSON data following the rules above.

    >>> normalise({"b": 0.1 + 0.2, "a": [2.0, float("nan")], "c": {3, 1}})
    {'b': 0.3, 'a': [2, 'NaN'], 'c': [1, 3]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return _number(float(value))
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [normalise(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _number(value.total_seconds())
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, BaseModel):
        return normalise(value.model_dump(mode="json"))
    return str(value)


def _number(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    rounded = float(format(value, f".{SIGNIFICANT_DIGITS}g"))
    if rounded.is_integer() and abs(rounded) < 2**63:
        return int(rounded)
    return rounded


def canonical_json(value: Any) -> str:
    """The canonical text of ``value`` (normalised first)."""
    return json.dumps(normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_of(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def spec_definition(model: BaseModel) -> dict[str, Any]:
    """A spec object as data: the fields that were set or differ from their defaults, by their YAML names.

    Defaults are left out so that a field added to a model in a later Charter version (with a default)
    does not change the hash of every existing spec, and so that writing a default explicitly
    (``severity: error``) means the same as omitting it.
    """
    return normalise(model.model_dump(mode="json", by_alias=True, exclude_defaults=True))


def spec_hash(model: BaseModel) -> str:
    return sha256_of(spec_definition(model))


def close_enough(a: Any, b: Any, rel_tol: float = RELATIVE_TOLERANCE) -> bool:
    """Compare normalised values: numbers with a relative tolerance, everything else exactly.

    >>> close_enough({"v": 0.30000000001}, {"v": 0.3})
    True
    >>> close_enough([1, 2], [1, 3])
    False
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close_enough(a[k], b[k], rel_tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close_enough(x, y, rel_tol) for x, y in zip(a, b, strict=True))
    return bool(a == b)
