"""Copy-ready forms of the compiled request: the prompt and a cURL command.

The cURL command never carries the key: it reads ``$KLING_STUDIO_API_KEY`` from the shell.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from kling_studio.services.secrets import ENV_VAR

GENERATIONS_PATH = "/v1/videos/generations"


def curl_command(request: dict[str, Any], base_url: str) -> str:
    """A shell command that sends ``request`` the way the app would (minus the idempotency key)."""
    url = base_url.rstrip("/") + GENERATIONS_PATH
    body = json.dumps(request, ensure_ascii=False, indent=2)
    return (
        f"curl -X POST {shlex.quote(url)} \\\n"
        f'  -H "Authorization: Bearer ${ENV_VAR}" \\\n'
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-raw {shlex.quote(body)}\n"
    )
