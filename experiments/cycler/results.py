"""Checking a cycler result against the protocol (section "Result"), field by field.

Results are large (a CCD staircase has thousands of points), so they are checked by hand
rather than by a pydantic model: each fault names the job, the measurement and the field.
"""

from __future__ import annotations

import math
from typing import Any

from experiments.cycler.errors import CyclerProtocolError
from physics.measurements.payload import MEASUREMENT_ARRAYS, MEASUREMENT_SCALARS

__all__ = ["validate_result"]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_result(data: Any, job_id: str) -> dict[str, Any]:
    """Check a result against the protocol and return it unchanged.

    Checks: the required top-level fields, ``job_id`` equal to the one asked for, a sample
    with finite positive thickness, area and density and a non-empty ``sample_id``, and for every measurement its ``protocol``,
    a finite ``temperature_c``, its scalar settings, and its arrays: present, non-empty,
    of equal length, all finite numbers. Measurements of a protocol this client does not
    know are checked only for equal-length finite arrays.

    Args:
        data: The decoded JSON answer.
        job_id: The job the result was asked for.

    Raises:
        CyclerProtocolError: naming the job, the measurement (index and protocol) and field.
    """
    where = f"result of job {job_id}"
    if not isinstance(data, dict):
        raise CyclerProtocolError(f"{where}: expected a JSON object, got {type(data).__name__}")
    for key in ("job_id", "recipe", "sample", "measurements"):
        if key not in data:
            raise CyclerProtocolError(f"{where}: missing field {key!r}")
    if data["job_id"] != job_id:
        raise CyclerProtocolError(f"{where}: it names job {data['job_id']!r} instead")
    if not isinstance(data["recipe"], dict):
        raise CyclerProtocolError(f"{where}: field 'recipe' is not an object")
    sample = data["sample"]
    if not isinstance(sample, dict):
        raise CyclerProtocolError(f"{where}: field 'sample' is not an object")
    for key in ("thickness_cm", "area_cm2", "bulk_density_g_cm3"):
        value = sample.get(key)
        if not _finite(value) or float(value) <= 0:  # type: ignore[arg-type]
            raise CyclerProtocolError(
                f"{where}: sample.{key} = {value!r} is not a finite positive number"
            )
    if not isinstance(sample.get("sample_id"), str) or not sample["sample_id"]:
        raise CyclerProtocolError(
            f"{where}: sample.sample_id = {sample.get('sample_id')!r} is not a non-empty text"
        )
    measurements = data["measurements"]
    if not isinstance(measurements, list):
        raise CyclerProtocolError(f"{where}: field 'measurements' is not a list")
    for index, meas in enumerate(measurements):
        _validate_measurement(meas, f"{where}, measurement {index}")
    return data


def _validate_measurement(meas: Any, where: str) -> None:
    if not isinstance(meas, dict):
        raise CyclerProtocolError(f"{where}: not an object")
    protocol = meas.get("protocol")
    if not isinstance(protocol, str):
        raise CyclerProtocolError(f"{where}: missing or non-text field 'protocol'")
    where = f"{where} ({protocol})"
    if not _finite(meas.get("temperature_c")):
        raise CyclerProtocolError(
            f"{where}: temperature_c = {meas.get('temperature_c')!r} is not a finite number"
        )
    for key in MEASUREMENT_SCALARS.get(protocol, ()):
        if not _finite(meas.get(key)):
            raise CyclerProtocolError(f"{where}: {key} = {meas.get(key)!r} is not a finite number")
    required = MEASUREMENT_ARRAYS.get(protocol)
    if required is None:  # a protocol this client does not know: check its arrays only
        required = tuple(k for k, v in meas.items() if isinstance(v, list))
    lengths: dict[str, int] = {}
    for key in required:
        values = meas.get(key)
        if not isinstance(values, list):
            raise CyclerProtocolError(f"{where}: missing array {key!r}")
        if not values:
            raise CyclerProtocolError(f"{where}: array {key!r} is empty")
        for i, value in enumerate(values):
            if not _finite(value):
                raise CyclerProtocolError(f"{where}: {key}[{i}] = {value!r} is not a finite number")
        lengths[key] = len(values)
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}: {n}" for k, n in lengths.items())
        raise CyclerProtocolError(f"{where}: arrays of different lengths ({detail})")
