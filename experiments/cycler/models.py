"""Pydantic models of the cycler protocol, version 1 (``/work/shared/cycler-protocol.md``).

The same models serve both sides: the simulator publishes them in its OpenAPI schema and
validates requests with them; the client parses answers with them. Answers are parsed
leniently about *extra* fields (a lab service may add some) and strictly about the fields
the protocol defines.

Results are large (a CCD staircase has thousands of points), so the client checks them with
:func:`validate_result`, which names the job, the measurement and the field of any fault,
rather than with a pydantic model.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictFloat, StrictInt

from experiments.cycler.errors import CyclerProtocolError

__all__ = [
    "JOB_STATUSES",
    "MEASUREMENT_ARRAYS",
    "MEASUREMENT_SCALARS",
    "PROTOCOLS",
    "PROTOCOL_VERSION",
    "AxisSpec",
    "Capabilities",
    "ErrorBody",
    "ErrorDetail",
    "Health",
    "Job",
    "JobCreate",
    "JobError",
    "JobList",
    "Measurement",
    "RecipeIn",
    "Result",
    "Sample",
    "validate_result",
]

PROTOCOL_VERSION = "1"
PROTOCOLS: tuple[str, ...] = ("eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase")
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")

#: The arrays each protocol's measurement carries (all of one length).
MEASUREMENT_ARRAYS: dict[str, tuple[str, ...]] = {
    "eis_blocking": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "eis_symmetric": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "dc_polarization": ("time_s", "current_a"),
    "ccd_staircase": ("time_s", "current_ma_cm2", "voltage_v"),
}
#: The scalar settings each protocol's measurement carries besides ``temperature_c``.
MEASUREMENT_SCALARS: dict[str, tuple[str, ...]] = {
    "eis_blocking": (),
    "eis_symmetric": (),
    "dc_polarization": ("voltage_v",),
    "ccd_staircase": (
        "start_ma_cm2",
        "step_ma_cm2",
        "max_ma_cm2",
        "cycles_per_step",
        "half_cycle_s",
    ),
}

Protocol = Literal["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Number = StrictFloat | StrictInt
_LENIENT = ConfigDict(extra="allow")


class ErrorDetail(BaseModel):
    """The ``error`` member of every non-2xx answer."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every non-2xx answer: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


class Health(BaseModel):
    """``GET /v1/health``."""

    model_config = _LENIENT
    status: str
    protocol_version: str


class AxisSpec(BaseModel):
    """One recipe variable of the capabilities: ``[min, max]`` on the grid ``min + k*step``."""

    model_config = _LENIENT
    min: float
    max: float
    step: float = Field(gt=0)
    default: float | None = None

    def __getitem__(self, key: str) -> Any:
        """Dict-style access: ``spec["min"]`` (KeyError when absent or None)."""
        value = self.model_dump().get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style ``get``: ``spec.get("default")``."""
        value = self.model_dump().get(key)
        return default if value is None else value


class Capabilities(BaseModel):
    """``GET /v1/capabilities``; :attr:`raw` is the answer as received (a plain dict).

    ``physics.schema.RecipeSpace.from_capabilities(caps.raw)`` builds the recipe space.
    """

    model_config = _LENIENT
    protocol_version: str
    recipe_space: dict[str, AxisSpec]
    protocols: list[str]
    max_concurrent_jobs: int = Field(ge=1)
    theoretical_density_g_cm3: float = Field(gt=0)
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_raw(cls, data: Any) -> Capabilities:
        """Validate an answer and keep it as :attr:`raw`."""
        caps = cls.model_validate(data)
        caps._raw = dict(data)
        return caps

    @property
    def raw(self) -> dict[str, Any]:
        """The capabilities as a plain dict (as received, or as this model dumps)."""
        return self._raw or self.model_dump(mode="json", exclude_none=True)


class RecipeIn(BaseModel):
    """A recipe in a job request; ``dwell_h`` left out means the capability's default."""

    model_config = ConfigDict(extra="forbid")
    zbo_fraction: Number
    sinter_temperature_c: Number
    dwell_h: Number | None = None


class JobCreate(BaseModel):
    """Body of ``POST /v1/jobs``; ``protocols`` left out means all of them."""

    model_config = ConfigDict(extra="forbid")
    campaign: Annotated[str, Field(strict=True, min_length=1, max_length=200)]
    recipe: RecipeIn
    protocols: Annotated[list[Protocol], Field(min_length=1, max_length=4)] | None = None


class JobError(BaseModel):
    """Why a job failed: ``sample_cracked`` (not retryable) or ``instrument_fault`` (retryable)."""

    model_config = _LENIENT
    code: str
    message: str
    retryable: bool


class Job(BaseModel):
    """The job object of the protocol."""

    model_config = _LENIENT
    job_id: str
    campaign: str
    status: Status
    recipe: dict[str, float]
    protocols: list[str]
    idempotency_key: str
    created_at: str
    updated_at: str
    error: JobError | None = None


class JobList(BaseModel):
    """``GET /v1/jobs?campaign=...``: jobs in creation order."""

    model_config = _LENIENT
    jobs: list[Job]


class Sample(BaseModel):
    """The pellet a result was measured on."""

    model_config = _LENIENT
    sample_id: str
    thickness_cm: float
    area_cm2: float
    bulk_density_g_cm3: float


class Measurement(BaseModel):
    """One measurement; which arrays it holds depends on ``protocol`` (schema only)."""

    model_config = _LENIENT
    protocol: str
    temperature_c: float
    electrodes: str | None = None


class Result(BaseModel):
    """``GET /v1/jobs/{job_id}/result`` (schema; the client checks with :func:`validate_result`)."""

    model_config = _LENIENT
    job_id: str
    recipe: dict[str, float]
    sample: Sample
    measurements: list[Measurement]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_result(data: Any, job_id: str) -> dict[str, Any]:
    """Check a result against the protocol and return it unchanged.

    Checks: the required top-level fields, ``job_id`` equal to the one asked for, a sample
    with finite positive thickness and area, and for every measurement its ``protocol``,
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
