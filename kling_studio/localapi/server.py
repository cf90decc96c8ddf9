"""The local Kling-compatible server: an ASGI app that speaks the APIMart contract.

Routes: ``POST /v1/videos/generations``, ``GET /v1/tasks/{id}``, ``POST /v1/uploads/images``,
``GET /v1/model-schema``, ``GET /v1/models``, ``GET /v1/model-docs?model=…`` (and ``.md``),
``GET /files/videos/{token}/{id}.mp4`` and ``GET /files/uploads/{name}`` (result and upload
files under unguessable names, Range supported), and ``GET /_local/stats`` (counters for tests).
Every ``/v1`` route wants ``Authorization: Bearer <key>``; with a configured key, so does
``/_local/stats``. Request bodies are capped while they stream in (``guards``). Videos are
animatics rendered by ``kling_studio.localapi.animatic``; faults are in ``localapi.faults``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kling_studio.localapi import routes_api, routes_files, routes_models
from kling_studio.localapi.config import LocalServerConfig
from kling_studio.localapi.errors import ApiError, error_response
from kling_studio.localapi.fault_middleware import FaultMiddleware
from kling_studio.localapi.guards import BodyLimitMiddleware, ResponseVersionMiddleware
from kling_studio.localapi.state import ServerState

__all__ = ["LocalServerConfig", "create_app"]

log = logging.getLogger(__name__)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such route" if exc.status_code == 404 else str(exc.detail)
    return error_response(exc.status_code, message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error in the local server", exc_info=exc)
    return error_response(500, f"internal error: {type(exc).__name__}: {exc}")


def create_app(config: LocalServerConfig | None = None) -> Starlette:
    """The ASGI app. Its ``state.local`` is the ServerState (tasks, counters, faults)."""
    config = config or LocalServerConfig()
    state = ServerState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    routes = [
        Route("/v1/videos/generations", routes_api.submit, methods=["POST"]),
        Route("/v1/tasks/{task_id}", routes_api.task_status, methods=["GET"]),
        Route("/v1/model-schema", routes_api.schema, methods=["GET"]),
        Route("/v1/models", routes_models.models, methods=["GET"]),
        Route(routes_models.DOCS_ROUTE, routes_models.model_docs, methods=["GET"]),
        Route(routes_models.DOCS_MARKDOWN_ROUTE, routes_models.model_docs_markdown, methods=["GET"]),
        Route("/v1/uploads/images", routes_files.upload_image, methods=["POST"]),
        Route("/files/videos/{token}/{name}", routes_files.video_file, methods=["GET", "HEAD"]),
        Route("/files/uploads/{name}", routes_files.uploaded_file, methods=["GET", "HEAD"]),
        Route("/_local/stats", routes_api.stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        # Outermost first: every answer names its version; bodies are capped before anything
        # (faults included) reads them.
        middleware=[
            Middleware(ResponseVersionMiddleware),
            Middleware(BodyLimitMiddleware),
            Middleware(FaultMiddleware, state=state),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.local = state
    return app
