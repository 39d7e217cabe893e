"""Property thresholds: the one parser and validator behind ``gbs suggest``, ``gbs campaign run``
and the acquisition.

A threshold is a bound on one of the three objectives, in property units:

================================  ==========  ===========================================
name                              unit        valid values (meaning)
================================  ==========  ===========================================
``sigma_total_ms_cm``             mS/cm       ``> 0`` (at least this total conductivity)
``ccd_ma_cm2``                    mA/cm2      ``> 0`` (at least this critical current)
``electronic_fraction``           1           ``0 < t_e < 1`` (at most this t_e)
``sinter_temperature_c``          degC        ``> 0`` (below this sintering temperature;
                                              only with ``--minimize-temperature``)
================================  ==========  ===========================================

In multi-objective mode the thresholds are the hypervolume's reference point (a recipe only
counts where it beats every one); in single-objective mode they are outcome constraints. Other
table columns (``relative_density``, ...) are not objectives, so they cannot be thresholds. The
sintering temperature is a fourth objective only with ``--minimize-temperature``; its threshold
(:data:`TEMPERATURE_THRESHOLD`) is then the reference temperature of the 4-D hypervolume, and
the acquisition refuses it otherwise.
The module imports nothing heavy, so a campaign's configuration can be checked before any
model or database is touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from physics.errors import ConfigError
from physics.schema import OBJECTIVES

__all__ = [
    "DEFAULT_SIGMA_MODE_THRESHOLDS",
    "DEFAULT_THRESHOLDS",
    "TEMPERATURE_THRESHOLD",
    "THRESHOLD_NAMES",
    "check_temperature_objective",
    "check_thresholds",
    "parse_thresholds",
    "valid_thresholds_text",
]

#: Names a threshold may have: the objectives.
THRESHOLD_NAMES: tuple[str, ...] = tuple(OBJECTIVES)
#: The threshold on the sintering temperature (degC), used with ``--minimize-temperature``.
TEMPERATURE_THRESHOLD = "sinter_temperature_c"

#: Reference point of the hypervolume when the user gives none (property units).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "sigma_total_ms_cm": 0.5,
    "ccd_ma_cm2": 0.1,
    "electronic_fraction": 0.1,
}
#: Outcome constraint of the single-objective mode when the user gives none.
DEFAULT_SIGMA_MODE_THRESHOLDS: dict[str, float] = {"electronic_fraction": 0.05}

# name -> (open lower bound, open upper bound, the valid range in words, with the unit)
_RULES: dict[str, tuple[float, float, str]] = {
    "sigma_total_ms_cm": (0.0, math.inf, "> 0 mS/cm"),
    "ccd_ma_cm2": (0.0, math.inf, "> 0 mA/cm2"),
    "electronic_fraction": (0.0, 1.0, "a fraction in (0, 1)"),
    TEMPERATURE_THRESHOLD: (0.0, math.inf, "> 0 degC"),
}


def valid_thresholds_text() -> str:
    """The valid names, then their units and ranges, for error messages and help texts."""
    ranges = ", ".join(_RULES[n][2] for n in THRESHOLD_NAMES)
    return (
        f"{', '.join(THRESHOLD_NAMES)} (respectively {ranges}); with --minimize-temperature "
        f"also {TEMPERATURE_THRESHOLD} (> 0 degC)"
    )


def _check_one(name: str, value: object, given: str) -> float:
    """One threshold's value as a float, or a ConfigError naming ``given``."""
    if name not in _RULES:
        raise ConfigError(
            f"threshold {given}: {name!r} is not an objective; "
            f"valid thresholds: {valid_thresholds_text()}"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"threshold {given}: the value must be a number")
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"threshold {given}: {str(value).strip()!r} is not a number") from exc
    low, high, wording = _RULES[name]
    if not (math.isfinite(number) and low < number < high):
        raise ConfigError(f"threshold {given}: {name} must be {wording}, got {number:g}")
    return number


def check_thresholds(thresholds: Mapping[str, object] | None) -> dict[str, float]:
    """Validate a ``{name: value}`` mapping of thresholds (values in property units).

    Args:
        thresholds: names among :data:`THRESHOLD_NAMES`; values numbers or numeric strings.

    Returns:
        A new dict ``{name: float}`` in the given order (empty for ``None``).

    Raises:
        ConfigError: an unknown name (the valid ones are listed with units and ranges), a
            value that is not a finite number, or a value outside its range.
    """
    return {
        str(name): _check_one(str(name), value, f"{name}={value}")
        for name, value in (thresholds or {}).items()
    }


def parse_thresholds(items: Iterable[str] | None) -> dict[str, float]:
    """Parse command-line ``NAME=VALUE`` items into validated thresholds.

    Args:
        items: e.g. ``["sigma_total_ms_cm=1", "electronic_fraction=0.05"]``.

    Returns:
        ``{name: value}`` in property units, checked by :func:`check_thresholds`.

    Raises:
        ConfigError: an item without ``=``, a name given twice, or any error of
            :func:`check_thresholds`.
    """
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(
                f"--threshold {item!r}: expected NAME=VALUE, e.g. sigma_total_ms_cm=1.0; "
                f"valid names: {', '.join(THRESHOLD_NAMES)}"
            )
        if name in out:
            raise ConfigError(f"--threshold {name} is given twice; give each threshold once")
        out[name] = _check_one(name, value.strip(), item.strip())
    return out


def check_temperature_objective(
    thresholds: Mapping[str, float], minimize_temperature: bool, objective: str = "multi"
) -> None:
    """The temperature objective's rules: multi-objective mode only, and a
    ``sinter_temperature_c`` threshold only with it.

    Raises:
        ConfigError: either rule broken (one line naming the option).
    """
    if minimize_temperature and objective != "multi":
        raise ConfigError(
            "--minimize-temperature needs the multi-objective mode (objective 'multi')"
        )
    if TEMPERATURE_THRESHOLD in thresholds and not minimize_temperature:
        raise ConfigError(
            f"threshold {TEMPERATURE_THRESHOLD} applies only with --minimize-temperature"
        )
