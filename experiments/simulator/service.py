"""A simulated cycler service implementing protocol 1.1, or 1.0 (FastAPI, run with uvicorn).

``SimulatorConfig(protocol_version="1.0")`` (``gbs cycler serve --protocol-version 1.0``)
serves protocol 1.0 as a 1.0 service would: ``protocol_version`` "1", no durations in the
capabilities, no ``sample_id`` or ``instrument_hours`` on jobs, and a body naming a
``sample_id`` is malformed (``400``: an unknown field, and the recipe missing). Either way
the clock charges instrument-hours (:mod:`experiments.simulator.jobs`).

Readings of the protocol this simulator takes where it leaves room (each is what a real lab
service would most plausibly do):

- Authentication comes first: every request, ``/openapi.json`` and unknown routes included,
  gets ``401`` without the right bearer token.
- "The same body" for an ``Idempotency-Key`` means the same request after defaults are filled
  in: a body without ``dwell_h`` equals one with the default dwell, and one without
  ``protocols`` equals one listing all of them. JSON key order and spacing do not matter.
- A body that is malformed (not JSON, unknown fields, wrong types, duplicate protocols) is
  ``400``, checked before the key; a key already used is then ``200``/``409``, checked before
  the recipe is checked against the capabilities (a stored job's recipe was valid).
- ``GET /v1/jobs`` requires ``campaign`` (``400`` without): the protocol defines no other
  listing.
- A job starts as soon as a slot is free, so a ``POST`` may already answer ``running``.
- Every non-2xx answer, FastAPI's own validation errors (``400``, not ``422``), unknown routes
  (``404``) and wrong methods (``405``) included, has the protocol's error body.
- 1.1: a body with ``sample_id`` is a follow-up; one with both ``sample_id`` and ``recipe`` is
  ``400``. A follow-up without ``protocols`` runs all of them, as the protocol says of any
  job (repeats and the CCD staircase included). Samples: :mod:`experiments.simulator.samples`.
- 1.1: a job object names its ``sample_id`` from the start (a new sample's id is fixed when
  the job is accepted) and carries ``instrument_hours`` once finished, not while queued or
  running.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
from collections.abc import Callable, MutableMapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from experiments.cycler.models import (
    PROTOCOL_VERSION,
    PROTOCOL_VERSION_1_1,
    PROTOCOLS,
    Capabilities,
    ErrorBody,
    FollowUpCreate,
    Health,
    Job,
    JobCreate,
    JobList,
    JobRequest,
    Result,
)
from experiments.simulator.config import SimulatorConfig
from experiments.simulator.faults import FaultInjector, abort_connection
from experiments.simulator.jobs import JobStore, ServiceError
from physics.constants import NZSP_THEORETICAL_DENSITY_G_CM3
from physics.errors import ConfigError
from physics.schema import RecipeSpace

__all__ = ["SimulatorConfig", "create_app", "main", "serve"]

logger = logging.getLogger(__name__)


def _responses(*codes: int, **extra: Any) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: error bodies for 400, 401 and ``codes``."""
    out: dict[int | str, dict[str, Any]] = {c: {"model": ErrorBody} for c in (400, 401, *codes)}
    out.update({int(k.lstrip("_")): v for k, v in extra.items()})
    return out


IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]
_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
}


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "new_sample", "follow_up")]
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "malformed request"


async def _strict_query(request: Request) -> None:
    """Reject query parameters the operation does not declare, and repeated ones (400)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = {p.alias for p in dependant.query_params} if dependant is not None else set()
    for name in request.query_params:
        if name not in allowed:
            raise ServiceError(400, "invalid_request", f"unknown query parameter {name!r}")
        if len(request.query_params.getlist(name)) > 1:
            raise ServiceError(400, "invalid_request", f"query parameter {name!r} given twice")


def _load_landscape(name: str) -> Any:
    from experiments.worlds.landscapes import LANDSCAPES, get_landscape

    if name not in LANDSCAPES:
        raise ConfigError(f"unknown landscape {name!r}; valid landscapes: {', '.join(LANDSCAPES)}")
    return get_landscape(name)


def create_app(
    config: SimulatorConfig, *, landscape: Any = None, space: RecipeSpace | None = None
) -> Any:
    """The ASGI app of a simulated service: FastAPI behind the auth-and-fault gate.

    Args:
        config: Settings.
        landscape: Truth source (``sample_pellet``); by default ``config.landscape``.
        space: Recipe space announced in the capabilities (the protocol's defaults).

    Returns:
        An ASGI application (``.api`` is the FastAPI app, ``.store`` the job store).
    """
    space = space or RecipeSpace()
    token = config.resolved_token()
    injector = FaultInjector(config.faults, config.seed)
    store = JobStore(
        landscape=landscape if landscape is not None else _load_landscape(config.landscape),
        faults=injector,
        seed=config.seed,
        job_duration_s=config.job_duration_s,
        jitter=config.job_jitter,
        max_concurrent_jobs=config.max_concurrent_jobs,
        durations=config.durations(),
        staged=config.staged,
    )
    version = PROTOCOL_VERSION_1_1 if config.staged else PROTOCOL_VERSION
    recipe_space: dict[str, dict[str, float]] = {}
    for a in space.axes:
        spec = {"min": a.min_value, "max": a.max_value, "step": a.step}
        if a.default is not None:
            spec["default"] = a.default
        recipe_space[a.name] = spec
    announced: dict[str, Any] = {
        "protocol_version": version,
        "recipe_space": recipe_space,
        "protocols": list(PROTOCOLS),
        "max_concurrent_jobs": config.max_concurrent_jobs,
        "theoretical_density_g_cm3": NZSP_THEORETICAL_DENSITY_G_CM3,
    }
    if config.staged:
        announced.update(config.durations().to_capabilities())
    capabilities = Capabilities.from_raw(announced).raw

    api = FastAPI(
        title="Cycler service (simulator)",
        version=version,
        description=f"Simulated lab cycler service, protocol version {version}.",
        docs_url=None,
        redoc_url=None,
        # HTTPBearer documents the auth scheme (the gate enforces it).
        dependencies=[Depends(HTTPBearer(auto_error=False)), Depends(_strict_query)],
    )

    @api.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.message)

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, "invalid_request", _validation_message(exc))

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = f"no route {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Allow lists every route's methods on this path
            allowed = sorted(
                {
                    m
                    for r in api.routes
                    if isinstance(r, APIRoute) and r.path_regex.match(request.url.path)
                    for m in r.methods or ()
                }
            )
            headers = {"Allow": ", ".join(allowed)}
            message = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
        return _error(exc.status_code, code, message, headers)

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("internal error answering %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "the simulator failed to answer this request")

    @api.get("/v1/health", response_model=Health, responses=_responses())
    def health() -> dict[str, Any]:
        return {"status": "ok", "protocol_version": version}

    @api.get("/v1/capabilities", response_model=Capabilities, responses=_responses())
    def get_capabilities() -> JSONResponse:
        return JSONResponse(capabilities)

    def check(recipe: dict[str, Any]) -> dict[str, float]:
        try:
            return space.validate(recipe)
        except ConfigError as exc:
            raise ServiceError(400, "invalid_recipe", str(exc)) from exc

    def create(body: JobCreate | FollowUpCreate, key: str) -> JSONResponse:
        protocols = [str(p) for p in (body.protocols or PROTOCOLS)]
        if len(set(protocols)) != len(protocols):
            raise ServiceError(400, "invalid_request", f"protocols {protocols} lists one twice")
        if isinstance(body, FollowUpCreate):
            job, created = store.create_followup(body.campaign, body.sample_id, protocols, key)
        else:
            recipe_in = body.recipe.model_dump()
            if recipe_in.get("dwell_h") is None:
                recipe_in["dwell_h"] = space.dwell_h.default
            job, created = store.create(body.campaign, recipe_in, protocols, key, check)
        return JSONResponse(job, status_code=201 if created else 200)

    post_jobs = api.post(
        "/v1/jobs",
        response_model=Job,
        status_code=201,
        responses=_responses(404, 409, _200={"model": Job})
        if config.staged
        else _responses(409, _200={"model": Job}),
    )
    if config.staged:

        @post_jobs
        def create_job(body: JobRequest, idempotency_key: IdempotencyKey) -> JSONResponse:
            return create(body, idempotency_key)  # type: ignore[arg-type]

    else:

        @post_jobs
        def create_job_1_0(body: JobCreate, idempotency_key: IdempotencyKey) -> JSONResponse:
            return create(body, idempotency_key)

    @api.get("/v1/jobs", response_model=JobList, responses=_responses())
    def list_jobs(campaign: Annotated[str, Query(min_length=1, max_length=200)]) -> JSONResponse:
        return JSONResponse({"jobs": store.list(campaign)})

    @api.get("/v1/jobs/{job_id}", response_model=Job, responses=_responses(404))
    def get_job(job_id: str) -> JSONResponse:
        return JSONResponse(store.get(job_id))

    @api.delete("/v1/jobs/{job_id}", response_model=Job, responses=_responses(404))
    def cancel_job(job_id: str) -> JSONResponse:
        return JSONResponse(store.cancel(job_id))

    @api.get(
        "/v1/jobs/{job_id}/result",
        response_model=Result,
        responses=_responses(404, 409),
    )
    def get_result(job_id: str) -> JSONResponse:
        return JSONResponse(store.result(job_id))

    gate = _Gate(api, token, injector)
    gate.store = store
    return gate


class _Gate:
    """Outermost ASGI layer: bearer-token check, then the configured faults."""

    def __init__(self, api: FastAPI, token: str, injector: FaultInjector) -> None:
        self.api = api
        self.store: JobStore | None = None
        self._expected = f"Bearer {token}".encode()
        self._injector = injector

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        auth = dict(scope.get("headers") or []).get(b"authorization", b"")
        if not hmac.compare_digest(auth, self._expected):
            what = "missing" if not auth else "wrong"
            await _error(401, "unauthorized", f"{what} bearer token")(scope, receive, send)
            return
        decision = self._injector.decide()
        if decision.http_status == 503:
            retry = f"{self._injector.config.retry_after_s:g}"
            await _error(503, "busy", "the cycler is busy, retry later", {"Retry-After": retry})(
                scope, receive, send
            )
            return
        if decision.http_status == 500:
            await _error(500, "internal_error", "simulated internal error")(scope, receive, send)
            return
        if decision.delay_s > 0:
            await asyncio.sleep(decision.delay_s)
        if not decision.lose_reply:
            await self.api(scope, receive, send)
            return

        async def swallow(message: MutableMapping[str, Any]) -> None:
            return None

        await self.api(scope, receive, swallow)  # act on the request, then drop the answer
        if not await abort_connection(send):
            await _error(502, "reply_lost", "simulated lost reply")(scope, receive, send)


def serve(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    log_level: str = "warning",
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run a simulated service with uvicorn until interrupted.

    Args:
        config: Settings (ConfigError for a bad landscape or no token, before binding).
        host: Address to bind.
        port: TCP port.
        log_level: uvicorn's log level.
        on_ready: Called once the app is built, just before the server starts.
    """
    import uvicorn

    app = create_app(config)
    if on_ready is not None:
        on_ready()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m experiments.simulator.service --port P [--host H] [--config-json JSON]``."""
    parser = argparse.ArgumentParser(
        description="simulated cycler service (token from CYCLER_TOKEN)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--config-json", default="{}")
    args = parser.parse_args(argv)
    try:
        serve(SimulatorConfig.from_json(args.config_json), args.host, args.port)
    except ConfigError as exc:
        print(f"error: {exc}", flush=True)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
