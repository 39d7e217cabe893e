"""Numbers as people read them, in tables and reports (terminal and HTML alike).

One rule everywhere: a missing or non-finite value is an em dash, a number has ``digits``
significant figures unless it is a whole number of 10**digits up to a million (1050 C stays
``1050``, not ``1.05e+03``), a flag is yes/no.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MISSING", "format_mean_sd", "format_value"]

#: What a missing value looks like.
MISSING = "—"


def format_value(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant figures; None/NaN -> "—"; bool -> yes/no; text as is.

    Examples:
        >>> [format_value(v) for v in (0.153, 1050.0, 957.4, 2.5e-7, None, float("nan"), True)]
        ['0.153', '1050', '957', '2.5e-07', '—', '—', 'yes']
    """
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return MISSING
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if 10**digits <= abs(number) < 1e6:
        return f"{number:.0f}"
    return f"{number:.{digits}g}"


def format_mean_sd(mean: Any, sd: Any, digits: int = 3) -> str:
    """``"mean ± sd"`` (sd to 2 significant figures); "—" when the mean is missing.

    ``mean`` may also be a ``{"mean": ..., "sd": ...}`` record, with ``sd`` then ignored.
    """
    if isinstance(mean, dict):
        mean, sd = mean.get("mean"), mean.get("sd")
    text = format_value(mean, digits)
    if text == MISSING or format_value(sd, 2) == MISSING:
        return text
    return f"{text} ± {format_value(sd, 2)}"
