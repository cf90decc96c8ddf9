"""POST /v1/videos/generations over real HTTP: shapes, validation, auth and idempotency."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.domain.storyboard import Shot, Storyboard
from kling_studio.localapi.runner import LocalServer

from .conftest import AUTH, body, png_bytes

TASK_ID = re.compile(r"task_[0-9A-HJKMNP-TV-Z]{26}")
SUBMIT = "/v1/videos/generations"


def _error(response: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == status
    assert error["message"]
    if type_ is not None:
        assert error["type"] == type_
    return error


def test_default_answer_is_the_list_shape(client: httpx.Client) -> None:
    answer = client.post(SUBMIT, json=body()).json()
    assert answer.keys() == {"code", "data"}
    assert answer["code"] == 200
    [item] = answer["data"]
    assert item["status"] == "submitted"
    assert TASK_ID.fullmatch(item["task_id"])


def test_response_version_header_gives_the_object_shape(client: httpx.Client) -> None:
    answer = client.post(SUBMIT, json=body(), headers={"X-APIMart-Response-Version": "2026-07-27"}).json()
    assert answer["code"] == 200
    assert answer["request_id"]
    data = answer["data"]
    assert data["object"] == "generation.task"
    assert data["status"] == "pending"
    assert TASK_ID.fullmatch(data["id"])


def test_task_ids_are_unique(client: httpx.Client) -> None:
    ids = {client.post(SUBMIT, json=body()).json()["data"][0]["task_id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("duration", [KLING_3_TURBO.min_total_seconds, KLING_3_TURBO.max_total_seconds])
def test_duration_bounds_are_accepted(client: httpx.Client, duration: int) -> None:
    assert client.post(SUBMIT, json=body(duration=duration)).status_code == 200


@pytest.mark.parametrize("duration", [2, 16, "6", 6.0, 5.5, True, None, [5]])
def test_bad_durations_are_refused(client: httpx.Client, duration: object) -> None:
    error = _error(client.post(SUBMIT, json=body(duration=duration)), 400, "invalid_duration")
    assert error["param"] == "duration"


def test_missing_duration_means_the_default(client: httpx.Client) -> None:
    request = body()
    del request["duration"]
    assert client.post(SUBMIT, json=request).status_code == 200


def test_prompt_length_limit(client: httpx.Client) -> None:
    limit = KLING_3_TURBO.max_prompt_chars
    assert client.post(SUBMIT, json=body(prompt="a" * limit)).status_code == 200
    error = _error(client.post(SUBMIT, json=body(prompt="a" * (limit + 1))), 400)
    assert "prompt_too_long" in error["message"]
    # Lengths are code points, not bytes.
    assert client.post(SUBMIT, json=body(prompt="雨" * limit)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": "kling-2.1"}, "model"),
        ({"model": None}, "model"),
        ({"resolution": "4k"}, "resolution"),
        ({"resolution": 720}, "resolution"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"watermark": "yes"}, "watermark"),
        ({"watermark": 1}, "watermark"),
        ({"first_frame_image": "ftp://example.com/a.png"}, "first_frame_image"),
        ({"first_frame_image": "/tmp/a.png"}, "first_frame_image"),
        ({"first_frame_image": "data:image/png;base64,!!!"}, "first_frame_image"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": ""}, "prompt"),
    ],
)
def test_each_field_is_validated(client: httpx.Client, fields: dict[str, Any], param: str) -> None:
    request = body(**fields)
    if fields.get("model", "") is None:
        del request["model"]
    error = _error(client.post(SUBMIT, json=request), 400)
    assert error["param"] == param


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_non_object_bodies_are_invalid_requests(client: httpx.Client, content: bytes) -> None:
    response = client.post(SUBMIT, content=content, headers={"Content-Type": "application/json"})
    _error(response, 400, "invalid_request_error")


def test_optional_fields_are_accepted(client: httpx.Client) -> None:
    request = body(resolution="1080p", aspect_ratio="1:1", watermark=False)
    assert client.post(SUBMIT, json=request).status_code == 200
    assert client.post(SUBMIT, json=body(prompt="", first_frame_image="https://example.com/a.png")).status_code == 200


def test_data_uri_first_frame_is_decoded(client: httpx.Client) -> None:
    uri = "data:image/png;base64," + base64.b64encode(png_bytes((400, 300))).decode()
    assert client.post(SUBMIT, json=body(first_frame_image=uri)).status_code == 200
    not_image = "data:image/png;base64," + base64.b64encode(b"hello").decode()
    _error(client.post(SUBMIT, json=body(first_frame_image=not_image)), 400)


@pytest.mark.parametrize(
    ("image", "fmt", "rule"),
    [
        ((300, 299), "PNG", "first_frame_too_small"),
        ((1000, 300), "PNG", "first_frame_aspect_ratio"),
        ((400, 300), "WEBP", "first_frame_format"),
    ],
)
def test_data_uri_first_frame_follows_the_turbo_rules(
    client: httpx.Client, image: tuple[int, int], fmt: str, rule: str
) -> None:
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(image, fmt=fmt)).decode()
    error = _error(client.post(SUBMIT, json=body(first_frame_image=uri)), 400, "invalid_request_error")
    assert error["param"] == "first_frame_image"
    assert error["message"].startswith(rule)


def test_data_uri_first_frame_size_follows_its_exif_orientation(server: LocalServer, client: httpx.Client) -> None:
    picture = Image.new("RGB", (640, 360), (20, 200, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90°: portrait
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    answer = client.post(SUBMIT, json=body(first_frame_image=uri))
    assert answer.status_code == 200, answer.text
    task = server.state.tasks[answer.json()["data"][0]["task_id"]]
    assert (task.width, task.height) == KLING_3_TURBO.output_size("720p", "9:16")


def test_compiled_multishot_prompts_are_accepted(client: httpx.Client) -> None:
    storyboard = Storyboard(shots=(Shot("a girl walks; slowly", 3), Shot("close-up of her face", 4), Shot("street", 3)))
    compiled = compile_storyboard(storyboard)
    assert compiled.ok
    response = client.post(SUBMIT, json=compiled.request)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("prompt", "duration", "rule"),
    [
        ("shot 1, 3, a cat; shot 2, 3, a dog;", 5, "invalid_duration"),
        ("shot 1, 2, a cat; shot 3, 3, a dog;", 5, "invalid_multishot_prompt"),
        ("shot 1, 2, a cat; shot 2, 0, a dog; shot 3, 3, a bird;", 5, "shot_duration_invalid"),
        ("shot 1, 2, ; shot 2, 3, a dog;", 5, "shot_text_empty"),
        ("shot 1, 3, a cat; oops", 3, "invalid_multishot_prompt"),
        ("; ".join(f"shot {i}, 1, s{i}" for i in range(1, 8)) + ";", 7, "too_many_shots"),
        (f"shot 1, 2, {'a' * 513}; shot 2, 3, b;", 5, "shot_text_too_long"),
    ],
)
def test_broken_multishot_prompts_name_the_rule(client: httpx.Client, prompt: str, duration: int, rule: str) -> None:
    error = _error(client.post(SUBMIT, json=body(prompt=prompt, duration=duration)), 400)
    assert rule in error["message"]
    assert error["param"] == "prompt"


def test_multishot_keywords_are_case_insensitive(client: httpx.Client) -> None:
    prompt = "Shot 1, 1, a cat; SHOT 2, 1, a dog; 镜头 3, 1, a bird;"
    assert client.post(SUBMIT, json=body(prompt=prompt, duration=3)).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}])
def test_missing_key_is_an_authentication_error(server: LocalServer, headers: dict[str, str]) -> None:
    response = httpx.post(f"{server.base_url}{SUBMIT}", json=body(), headers=headers)
    _error(response, 401, "authentication_error")
    assert server.state.created_tasks == []


def test_configured_key_must_match(make_server: Any) -> None:
    server = make_server(api_key="right")
    url = f"{server.base_url}{SUBMIT}"
    _error(httpx.post(url, json=body(), headers={"Authorization": "Bearer wrong"}), 401, "authentication_error")
    assert httpx.post(url, json=body(), headers={"Authorization": "Bearer right"}).status_code == 200
    _error(httpx.get(f"{server.base_url}/v1/model-schema", headers=AUTH), 401, "authentication_error")


def test_idempotency_key_replays_the_first_answer(server: LocalServer, client: httpx.Client) -> None:
    key = {"Idempotency-Key": "job-42"}
    first = client.post(SUBMIT, json=body(), headers=key)
    again = client.post(SUBMIT, json=body(prompt="something else"), headers=key)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    assert server.state.submissions_by_key == {"job-42": 2}
    assert server.state.tasks_created_by_key == {"job-42": 1}
    assert len(server.state.created_tasks) == 1
    stats = client.get("/_local/stats").json()
    assert stats["submissions_by_key"] == {"job-42": 2}
    assert stats["tasks_created_by_key"] == {"job-42": 1}


def test_idempotency_replays_errors_too(server: LocalServer, client: httpx.Client) -> None:
    key = {"Idempotency-Key": "bad-one"}
    first = client.post(SUBMIT, json=body(duration="6"), headers=key)
    again = client.post(SUBMIT, json=body(), headers=key)
    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert server.state.tasks_created_by_key == {}


def test_invalid_idempotency_key_is_refused(client: httpx.Client) -> None:
    error = _error(client.post(SUBMIT, json=body(), headers={"Idempotency-Key": "x" * 192}), 400)
    assert error["param"] == "Idempotency-Key"


def test_model_schema_comes_from_the_limits_profile(client: httpx.Client) -> None:
    answer = client.get("/v1/model-schema", params={"model": "kling-3.0-turbo", "operation": "video_generation"})
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["model"] == "kling-3.0-turbo"
    assert schema["operation"] == "video_generation"
    properties = schema["input_schema"]["properties"]
    assert properties["duration"]["type"] == "integer"
    assert (properties["duration"]["minimum"], properties["duration"]["maximum"]) == (3, 15)
    assert properties["prompt"]["maxLength"] == KLING_3_TURBO.max_prompt_chars
    assert properties["resolution"]["enum"] == list(KLING_3_TURBO.resolutions)
    assert properties["aspect_ratio"]["enum"] == list(KLING_3_TURBO.aspect_ratios)
    assert properties["watermark"]["type"] == "boolean"
    assert client.get("/v1/model-schema", params={"model": "other"}).status_code == 404


def test_unknown_routes_use_the_error_envelope(client: httpx.Client) -> None:
    _error(client.get("/v1/nothing-here"), 404)
    _error(client.get(SUBMIT), 405)
