"""Numbers made safe for JSON and MLflow: non-finite values become ``None`` (JSON ``null``).

JSON has no NaN or infinity (``json.dumps(..., allow_nan=False)`` refuses them, and other
readers choke on Python's ``NaN``); MLflow metrics must be finite. Every layer that writes JSON
records or metrics uses these two functions, so a missing value is ``null`` everywhere.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["finite_or_none", "json_safe"]


def finite_or_none(value: Any) -> float | None:
    """``float(value)`` when it is a finite number, else ``None``.

    Accepts Python and NumPy scalars, numeric strings and 0-d arrays; ``None``, text, NaN and
    +-inf give ``None``.

    Examples:
        >>> finite_or_none(1), finite_or_none("2.5"), finite_or_none(float("nan")), finite_or_none(None)
        (1.0, 2.5, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return out if math.isfinite(out) else None


def json_safe(value: Any) -> Any:
    """A copy of ``value`` with every non-finite float (in dicts, lists, tuples) set to ``None``.

    NumPy scalars become Python numbers; other values are returned as they are.
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float) or hasattr(value, "dtype"):
        item = value.item() if hasattr(value, "item") else value
        if isinstance(item, float):
            return item if math.isfinite(item) else None
        return item
    return value
