"""Reaching the TCP connection behind a request, so a fault can drop it without any answer.

ASGI gives an application no way to abort its connection: uvicorn answers 500 when an app
fails before responding. uvicorn accepts a protocol class, so ours records each connection's
transport under the (server, client) address pair that also appears in the request's scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

_TRANSPORTS: dict[tuple[Any, Any], asyncio.Transport] = {}


class TrackingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol that registers its transport while the connection is open."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _TRANSPORTS[(self.server, self.client)] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        _TRANSPORTS.pop((self.server, self.client), None)
        super().connection_lost(exc)


def _key(scope: Mapping[str, Any]) -> tuple[Any, Any]:
    server, client = scope.get("server"), scope.get("client")
    return (tuple(server) if server else None, tuple(client) if client else None)


async def abort_connection(scope: Mapping[str, Any]) -> bool:
    """Reset the request's TCP connection. False when the server is not ours (e.g. in-process)."""
    transport = _TRANSPORTS.get(_key(scope))
    if transport is None:
        return False
    transport.abort()
    # Let connection_lost run so uvicorn knows the client is gone and does not try to answer.
    for _ in range(3):
        await asyncio.sleep(0)
    return True
