"""Issue 11 §7: the local server is safe to leave running. Real servers on loopback sockets."""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from PIL import Image

import kling_studio.localapi as localapi_package
from kling_studio.domain.limits import KLING_3_TURBO, MB
from kling_studio.localapi.runner import LocalServer

from .conftest import AUTH, MODEL, body, png_bytes, wait_for

SUBMIT = "/v1/videos/generations"
UPLOAD = "/v1/uploads/images"
VERSION = "x-apimart-response-version"
KEY = "local-secret-key"
KEYED = {"Authorization": f"Bearer {KEY}"}


def _sentence(message: str) -> None:
    assert message[0].isupper() and message.endswith("."), message
    assert " " in message and "{" not in message


# With --api-key, every route needs the key


ROUTES = [
    ("GET", "/_local/stats"),
    ("GET", "/v1/models"),
    ("GET", f"/v1/model-docs?model={MODEL}"),
    ("GET", f"/v1/model-docs.md?model={MODEL}"),
    ("GET", f"/v1/model-schema?model={MODEL}"),
    ("GET", "/v1/tasks/task_01KBS40K78KGHZ9SDBWQSGSXRK"),
    ("POST", SUBMIT),
    ("POST", UPLOAD),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_with_an_api_key_every_route_needs_it(make_server: Any, method: str, path: str) -> None:
    server = make_server(api_key=KEY)
    url = f"{server.base_url}{path}"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.request(method, url, headers=headers, json=body() if method == "POST" else None)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["type"] == "authentication_error"
    allowed = httpx.request(method, url, headers=KEYED, json=body() if method == "POST" else None)
    assert allowed.status_code != 401


def test_stats_does_not_list_tasks_or_idempotency_keys_without_the_key(make_server: Any) -> None:
    server = make_server(api_key=KEY)
    with httpx.Client(base_url=server.base_url, headers=KEYED) as client:
        task_id = client.post(SUBMIT, json=body(), headers={"Idempotency-Key": "secret-job"}).json()["data"][0]
        refused = httpx.get(f"{server.base_url}/_local/stats")
        assert refused.status_code == 401
        assert "secret-job" not in refused.text and task_id["task_id"] not in refused.text
        assert client.get("/_local/stats").json()["tasks_created_by_key"] == {"secret-job": 1}


def test_result_files_are_served_under_an_unguessable_token_without_the_key(make_server: Any) -> None:
    server = make_server(api_key=KEY, task_seconds=0)
    with httpx.Client(base_url=server.base_url, headers=KEYED, timeout=30) as client:
        task_id = client.post(SUBMIT, json=body()).json()["data"][0]["task_id"]
        url = wait_for(client, task_id)["result"]["videos"][0]["url"][0]
    token = url.split("/files/videos/")[1].split("/")[0]
    assert len(token) >= 32 and task_id not in token
    video = httpx.get(url)  # no Authorization: the token is the permission, as on a CDN
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    for guess in (
        f"{server.base_url}/files/videos/{task_id}.mp4",
        url.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        url.replace(token, "x"),
    ):
        assert httpx.get(guess).status_code == 404
        assert httpx.get(guess, headers=KEYED).status_code == 404  # the key does not open a wrong link


def test_upload_links_carry_an_unguessable_name(make_server: Any) -> None:
    server = make_server(api_key=KEY)
    answer = httpx.post(
        f"{server.base_url}{UPLOAD}", headers=KEYED, files={"file": ("f.png", png_bytes((320, 320)), "image/png")}
    ).json()
    name = answer["url"].rsplit("/", 1)[1]
    assert len(name.removeprefix("img_").removesuffix(".png")) >= 32
    assert httpx.get(answer["url"]).status_code == 200


# Request bodies are capped before they are buffered or spooled


def _chunks(total: int, sent: list[int], prefix: bytes = b"", chunk: int = 256 * 1024) -> Iterator[bytes]:
    yield prefix
    sent[0] += len(prefix)
    while sent[0] < total:
        piece = b"a" * chunk
        sent[0] += len(piece)
        yield piece


def test_a_json_body_over_1_mib_is_a_413_sentence(client: httpx.Client) -> None:
    response = client.post(SUBMIT, json=body(prompt="a" * (MB + 10)))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == 413 and error["type"] == "invalid_request_error"
    _sentence(error["message"])
    assert "1 MB" in error["message"]


def test_a_chunked_json_body_is_counted_while_it_streams(server: LocalServer, client: httpx.Client) -> None:
    sent = [0]
    response = client.post(
        SUBMIT, content=_chunks(300 * MB, sent, b'{"model": "kling-3.0-turbo", "prompt": "'), timeout=60
    )
    assert response.status_code == 413
    _sentence(response.json()["error"]["message"])
    print(f"chunked JSON: the client had sent {sent[0] / MB:.1f} MB when the 413 came back")
    assert sent[0] < 64 * MB
    assert server.state.created_tasks == []


def test_an_upload_is_counted_while_it_streams_not_after_spooling(
    server: LocalServer, client: httpx.Client, tmp_path: Path
) -> None:
    boundary = "kling-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    sent = [0]
    response = client.post(
        UPLOAD,
        content=_chunks(500 * MB, sent, head + png_bytes((320, 320))),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=120,
    )
    assert response.status_code == 413
    error = response.json()["error"]
    _sentence(error["message"])
    assert f"{KLING_3_TURBO.upload_max_bytes // MB} MB" in error["message"]
    print(f"chunked upload: the client had sent {sent[0] / MB:.1f} MB when the 413 came back")
    assert sent[0] < 100 * MB
    assert server.state.uploads == {}


def test_a_declared_oversized_upload_is_refused_with_a_sentence(client: httpx.Client) -> None:
    data = b"\x89PNG" + b"\0" * (KLING_3_TURBO.upload_max_bytes + 200 * 1024)
    response = client.post(UPLOAD, files={"file": ("big.png", data, "image/png")})
    assert response.status_code == 413
    _sentence(response.json()["error"]["message"])


NASTY_BODIES = {
    "nested_100000_lists": b"[" * 100_000 + b"]" * 100_000,
    "nested_objects_in_a_field": b'{"model": "kling-3.0-turbo", "x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001,
    "integer_over_4300_digits": b'{"model": "kling-3.0-turbo", "duration": ' + b"9" * 5000 + b"}",
    "lone_surrogate_in_prompt": b'{"model": "kling-3.0-turbo", "prompt": "a \\ud800 b", "duration": 5}',
    "lone_surrogate_in_a_key": b'{"model": "kling-3.0-turbo", "\\udc00": 1, "duration": 5}',
    "nan_duration": b'{"model": "kling-3.0-turbo", "duration": NaN}',
    "not_utf8": b'{"model": "\xff"}',
}


@pytest.mark.parametrize("name", sorted(NASTY_BODIES))
def test_nasty_json_is_a_400_never_a_500(server: LocalServer, client: httpx.Client, name: str) -> None:
    response = client.post(SUBMIT, content=NASTY_BODIES[name], headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "Traceback" not in error["message"]
    assert server.state.created_tasks == []


# Idempotent replays answer in the shape the current request asks for


def test_a_replay_answers_in_the_shape_the_current_request_asks_for(server: LocalServer, client: httpx.Client) -> None:
    key = {"Idempotency-Key": "shape-1"}
    first = client.post(SUBMIT, json=body(), headers=key)
    assert first.headers[VERSION] != "2026-07-27"
    task_id = first.json()["data"][0]["task_id"]
    newer = client.post(SUBMIT, json=body(), headers={**key, "X-APIMart-Response-Version": "2026-07-27"})
    assert newer.headers["idempotency-replayed"] == "true"
    assert newer.headers[VERSION] == "2026-07-27"
    assert newer.json()["data"] == {"id": task_id, "object": "generation.task", "status": "pending"}
    older = client.post(SUBMIT, json=body(), headers=key)
    assert older.content == first.content
    assert older.headers[VERSION] == first.headers[VERSION]
    assert server.state.tasks_created_by_key == {"shape-1": 1}


def test_an_object_first_answer_replays_as_a_list_when_asked(client: httpx.Client) -> None:
    key = {"Idempotency-Key": "shape-2"}
    first = client.post(SUBMIT, json=body(), headers={**key, "X-APIMart-Response-Version": "2026-07-27"})
    task_id = first.json()["data"]["id"]
    again = client.post(SUBMIT, json=body(), headers={**key, "X-APIMart-Response-Version": "2026-07-27"})
    assert again.content == first.content  # same shape asked: byte for byte (request_id included)
    listed = client.post(SUBMIT, json=body(), headers=key)
    assert listed.json()["data"] == [{"status": "submitted", "task_id": task_id}]


def test_every_response_carries_the_response_version(make_server: Any) -> None:
    server = make_server(api_key=KEY, faults="500=1@status", task_seconds=0)
    base = server.base_url
    with httpx.Client(base_url=base, headers=KEYED, timeout=30) as client:
        answers = [
            client.post(SUBMIT, json=body()),
            client.post(SUBMIT, json=body(duration="6")),
            client.get("/v1/tasks/task_nope"),  # an injected 500
            client.get("/v1/tasks/task_nope"),  # a 404
            client.get("/v1/model-schema"),
            client.get("/v1/models"),
            client.get(f"/v1/model-docs?model={MODEL}"),
            client.get("/nowhere"),
            client.post(SUBMIT, json=body(prompt="a" * (2 * MB))),
            httpx.get(f"{base}/_local/stats"),
            httpx.get(f"{base}/files/videos/x/y.mp4"),
        ]
        newer = client.get("/v1/models", headers={"X-APIMart-Response-Version": "2026-07-27"})
    assert sorted({a.status_code for a in answers}) == [200, 400, 401, 404, 413, 500]
    for answer in answers:
        assert answer.headers.get(VERSION), (answer.request.url, answer.status_code)
    assert newer.headers[VERSION] == "2026-07-27"


# A first frame at a URL the server did not issue is fetched, or the task fails


def _first_frame_colour(client: httpx.Client, task_id: str) -> tuple[int, ...]:
    url = wait_for(client, task_id)["result"]["videos"][0]["url"][0]
    with av.open(io.BytesIO(httpx.get(url).content)) as container:
        frame = next(container.decode(video=0)).to_image()
    pixel: tuple[int, ...] = frame.getpixel((5, 5))  # type: ignore[assignment]
    return pixel


def test_a_foreign_image_url_is_fetched_and_rendered(make_server: Any) -> None:
    host = make_server()
    renderer = make_server(task_seconds=0)
    with httpx.Client(base_url=host.base_url, headers=AUTH) as host_client:
        red = png_bytes((640, 360), (250, 20, 20))
        url = host_client.post(UPLOAD, files={"file": ("red.png", red, "image/png")}).json()["url"]
    with httpx.Client(base_url=renderer.base_url, headers=AUTH, timeout=30) as client:
        task_id = client.post(SUBMIT, json=body(first_frame_image=url)).json()["data"][0]["task_id"]
        colour = _first_frame_colour(client, task_id)
    assert all(abs(a - b) < 40 for a, b in zip(colour[:3], (250, 20, 20), strict=True)), colour
    task = renderer.state.tasks[task_id]
    assert (task.width, task.height) == KLING_3_TURBO.output_size("720p", "16:9")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/frame.png", "could not be fetched"),
        ("http://images.example.com/frame.png", "not an https URL"),
    ],
)
def test_an_unfetchable_image_url_fails_the_task_with_the_reason(
    server: LocalServer, client: httpx.Client, url: str, reason: str
) -> None:
    task_id = client.post(SUBMIT, json=body(first_frame_image=url)).json()["data"][0]["task_id"]
    data = wait_for(client, task_id)
    assert data["status"] == "failed"
    assert reason in data["error"]["message"]
    assert "cost" not in data and not server.state.tasks[task_id].video_path.exists()


def test_a_foreign_url_that_is_not_an_image_fails_the_task(make_server: Any) -> None:
    host = make_server(task_seconds=0)
    renderer = make_server()
    with httpx.Client(base_url=host.base_url, headers=AUTH, timeout=30) as host_client:
        video_url = wait_for(host_client, host_client.post(SUBMIT, json=body()).json()["data"][0]["task_id"])
        video_url = video_url["result"]["videos"][0]["url"][0]
    with httpx.Client(base_url=renderer.base_url, headers=AUTH, timeout=30) as client:
        task_id = client.post(SUBMIT, json=body(first_frame_image=video_url)).json()["data"][0]["task_id"]
        data = wait_for(client, task_id)
    assert data["status"] == "failed"
    assert "not hold a readable image" in data["error"]["message"]


# A first frame over 100 megapixels is refused without decoding it, in every way it can arrive


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (13_000, 13_000)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_uploaded_huge_frame_is_refused_at_submit(client: httpx.Client, huge_png: bytes) -> None:
    url = client.post(UPLOAD, files={"file": ("huge.png", huge_png, "image/png")}).json()["url"]
    response = client.post(SUBMIT, json=body(first_frame_image=url))
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "first_frame_too_many_pixels" in message and "13000×13000" in message and "100 megapixels" in message


def test_a_huge_data_uri_frame_is_refused(client: httpx.Client, huge_png: bytes) -> None:
    import base64

    uri = "data:image/png;base64," + base64.b64encode(huge_png).decode()
    response = client.post(SUBMIT, json=body(first_frame_image=uri))
    assert response.status_code == 400
    assert "first_frame_too_many_pixels" in response.json()["error"]["message"]


def test_a_huge_frame_at_a_foreign_url_fails_the_task(make_server: Any, huge_png: bytes) -> None:
    host = make_server()
    renderer = make_server()
    with httpx.Client(base_url=host.base_url, headers=AUTH) as host_client:
        url = host_client.post(UPLOAD, files={"file": ("huge.png", huge_png, "image/png")}).json()["url"]
    with httpx.Client(base_url=renderer.base_url, headers=AUTH, timeout=30) as client:
        task_id = client.post(SUBMIT, json=body(first_frame_image=url)).json()["data"][0]["task_id"]
        data = wait_for(client, task_id)
    assert data["status"] == "failed"
    assert "100 megapixels" in data["error"]["message"]


# GET /v1/models and /v1/model-docs answer as APIMart's own client expects


def test_models_lists_kling_turbo_openai_style(client: httpx.Client) -> None:
    answer = client.get("/v1/models")
    assert answer.status_code == 200
    listing = answer.json()
    assert listing["object"] == "list"
    [model] = [m for m in listing["data"] if m["id"] == MODEL]
    assert model["object"] == "model"
    assert isinstance(model["created"], int) and model["owned_by"]


def test_model_docs_answer_the_documentation_contract(client: httpx.Client) -> None:
    docs = client.get("/v1/model-docs", params={"model": MODEL}).json()
    # The checks APIMart's client (apimart-media.mjs, getDocs) makes before it prints the docs.
    assert docs["object"] == "model.documentation" and docs["model"] == MODEL
    assert isinstance(docs["doc_url"], str) and docs["doc_url"]
    assert isinstance(docs["markdown_url"], str) and docs["markdown_url"]
    assert isinstance(docs["markdown"], str) and docs["markdown"].strip()
    assert isinstance(docs["fetched_at"], int) and docs["fetched_at"] > 0
    assert isinstance(docs["cache_ttl_seconds"], int) and docs["cache_ttl_seconds"] > 0
    assert docs["stale"] is False
    markdown = docs["markdown"]
    assert f"at most {KLING_3_TURBO.max_prompt_chars} characters" in markdown
    assert f"{KLING_3_TURBO.min_total_seconds} to {KLING_3_TURBO.max_total_seconds}" in markdown
    text = client.get(docs["markdown_url"])
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/markdown")
    assert text.text == markdown


def test_model_docs_for_an_unknown_model_is_a_404(client: httpx.Client) -> None:
    assert client.get("/v1/model-docs", params={"model": "kling-9"}).status_code == 404
    assert client.get("/v1/model-docs").status_code == 400


# Architecture: the server's state does not reach up into the app module for its config


def test_state_does_not_import_the_server_module() -> None:
    source = Path(localapi_package.__file__).with_name("state.py").read_text(encoding="utf-8")
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert "kling_studio.localapi.server" not in imported
    assert json.dumps(sorted(imported))  # keeps the list readable when the assertion fails


def test_the_animatic_renderer_refuses_a_huge_project_frame(tmp_path: Path, huge_png: bytes) -> None:
    from kling_studio.localapi.project_render import AnimaticError, plan_project

    (tmp_path / "huge.png").write_bytes(huge_png)
    project = tmp_path / "p.kling.json"
    data = {
        "schema": 1,
        "title": "huge",
        "settings": {"model": MODEL, "resolution": "720p", "aspect_ratio": "16:9", "watermark": None},
        "first_frame": {"path": "huge.png"},
        "shots": [{"text": "a", "duration": 3}],
    }
    project.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnimaticError, match=r"13000×13000 px \(169\.0 megapixels\); the limit is 100 megapixels"):
        plan_project(project)
