"""Pydantic models of the cycler protocol, versions 1.0 and 1.1 (``cycler-protocol.md``).

The same models serve both sides: the simulator publishes them in its OpenAPI schema and
validates requests with them; the client parses answers with them. Answers are parsed
leniently about *extra* fields (a lab service may add some) and strictly about the fields
the protocol defines. Requests are strict: unknown fields are ``400``.

Version 1.1 adds, all optional in the models so that one set parses both versions:
durations in the capabilities (required when the capabilities say 1.1), the job body of a
follow-up on an existing sample (:class:`FollowUpCreate`), and ``sample_id`` and
``instrument_hours`` on job objects. :class:`ProtocolVersion` compares versions by number,
so ``"1"`` equals ``"1.0"``, and ``"1.1"`` (or a later 1.x) has the 1.1 extensions.

Results are large (a CCD staircase has thousands of points), so the client checks them with
:func:`experiments.cycler.results.validate_result` (also importable from here), which names
the job, the measurement and the field of any fault, rather than with a pydantic model.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    Tag,
    model_validator,
)

from experiments.cycler.durations import Durations
from experiments.cycler.results import validate_result

__all__ = [
    "JOB_STATUSES",
    "PROTOCOLS",
    "PROTOCOL_VERSION",
    "PROTOCOL_VERSION_1_1",
    "AxisSpec",
    "Capabilities",
    "ErrorBody",
    "ErrorDetail",
    "FollowUpCreate",
    "Health",
    "Job",
    "JobCreate",
    "JobError",
    "JobList",
    "JobRequest",
    "Measurement",
    "ProtocolVersion",
    "RecipeIn",
    "Result",
    "Sample",
    "SinteringHours",
    "validate_result",
]

PROTOCOL_VERSION = "1"
PROTOCOL_VERSION_1_1 = "1.1"
PROTOCOLS: tuple[str, ...] = ("eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase")
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")

Protocol = Literal["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Number = StrictFloat | StrictInt
_LENIENT = ConfigDict(extra="allow")


_VERSION = re.compile(r"\s*(\d+)(?:\.(\d+))?(?:\.\d+)?\s*")


class ProtocolVersion(NamedTuple):
    """A protocol version as numbers: ``"1"`` and ``"1.0"`` are (1, 0), ``"1.1"`` is (1, 1).

    Tuples order by number, so ``version >= (1, 1)`` holds for "1.1" and "1.10" alike (a
    string comparison would not). A patch number ("1.1.2") is accepted and ignored.
    """

    major: int
    minor: int

    @classmethod
    def parse(cls, text: Any) -> ProtocolVersion:
        """Parse ``"MAJOR[.MINOR[.PATCH]]"``.

        Raises:
            ValueError: ``text`` is not a version string (pydantic reports it).
        """
        match = _VERSION.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"protocol_version {text!r} is not a version like '1' or '1.1'")
        return cls(int(match.group(1)), int(match.group(2) or 0))

    @property
    def staged(self) -> bool:
        """Whether the 1.1 extensions (durations, follow-up jobs) are available."""
        return self >= (1, 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


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


Hours = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]


class SinteringHours(BaseModel):
    """Furnace hours of a new pellet (1.1): ``base + per_dwell_h * dwell_h``."""

    model_config = _LENIENT
    base: Hours
    per_dwell_h: Hours


class Capabilities(BaseModel):
    """``GET /v1/capabilities``; :attr:`raw` is the answer as received (a plain dict).

    ``physics.schema.RecipeSpace.from_capabilities(caps.raw)`` builds the recipe space.
    A version other than 1.x is refused (this client speaks protocol 1). Capabilities
    that say 1.1 or later must give ``sintering_hours`` and ``protocol_hours`` with the
    hours of every protocol they list; those of a 1.0 service are not read (a 1.0 service
    does not define them, so whatever it sends under those names is an extra).
    """

    model_config = _LENIENT
    protocol_version: str
    recipe_space: dict[str, AxisSpec]
    protocols: list[str]
    max_concurrent_jobs: int = Field(ge=1)
    theoretical_density_g_cm3: float = Field(gt=0)
    sintering_hours: SinteringHours | None = None
    protocol_hours: dict[str, Hours] | None = None
    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _by_version(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("protocol_version"), str):
            return data  # the field checks report it
        version = ProtocolVersion.parse(data["protocol_version"])
        if version.major != 1:
            raise ValueError(
                f"protocol_version {data.get('protocol_version')!r}: this client speaks "
                "protocol 1 (1.0 and 1.1)"
            )
        if not version.staged:
            return {k: v for k, v in data.items() if k not in ("sintering_hours", "protocol_hours")}
        for key in ("sintering_hours", "protocol_hours"):
            if data.get(key) is None:
                raise ValueError(f"a {version} service must announce {key!r}")
        hours = data["protocol_hours"]
        missing = [
            p for p in data.get("protocols") or () if isinstance(hours, dict) and p not in hours
        ]
        if missing:
            raise ValueError(f"protocol_hours lacks the hours of {', '.join(map(str, missing))}")
        return data

    @property
    def version(self) -> ProtocolVersion:
        """The service's protocol version as numbers (``caps.version.staged`` for 1.1)."""
        return ProtocolVersion.parse(self.protocol_version)

    def durations(self, default: Durations) -> Durations:
        """The service's durations (1.1), else ``default`` (a 1.0 service announces none)."""
        if self.sintering_hours is None or self.protocol_hours is None:
            return default
        return Durations(
            self.sintering_hours.base,
            self.sintering_hours.per_dwell_h,
            dict(self.protocol_hours),
            source="service",
        )

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


Campaign = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Protocols = Annotated[list[Protocol], Field(min_length=1, max_length=4)]


class JobCreate(BaseModel):
    """Body of ``POST /v1/jobs`` making a new sample; ``protocols`` left out means all.

    The whole body of a 1.0 service.
    """

    model_config = ConfigDict(extra="forbid")
    campaign: Campaign
    recipe: RecipeIn
    protocols: Protocols | None = None


class FollowUpCreate(BaseModel):
    """Body of ``POST /v1/jobs`` running protocols on an existing sample (1.1): no recipe."""

    model_config = ConfigDict(extra="forbid")
    campaign: Campaign
    sample_id: Annotated[str, Field(strict=True, min_length=1, max_length=200)]
    protocols: Protocols | None = None


def _job_kind(body: Any) -> str:
    return "follow_up" if isinstance(body, dict) and "sample_id" in body else "new_sample"


#: Body of ``POST /v1/jobs`` on a 1.1 service: a body naming ``sample_id`` is a follow-up.
JobRequest = Annotated[
    Annotated[JobCreate, Tag("new_sample")] | Annotated[FollowUpCreate, Tag("follow_up")],
    Discriminator(_job_kind),
]


class JobError(BaseModel):
    """Why a job failed: ``sample_cracked`` (not retryable) or ``instrument_fault`` (retryable)."""

    model_config = _LENIENT
    code: str
    message: str
    retryable: bool


class Job(BaseModel):
    """The job object of the protocol.

    1.1 adds ``sample_id`` (the sample the job runs on; for a follow-up the named one) and,
    once the job has finished, ``instrument_hours`` (what it used). Both stay None on a 1.0
    service. ``recipe`` is the sample's recipe, for a follow-up too.
    """

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
    sample_id: str | None = None
    instrument_hours: Hours | None = None


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
