"""POST /v1/uploads/images and using an upload as a first frame."""

from __future__ import annotations

import io
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.runner import LocalServer

from .conftest import body, png_bytes, wait_for

UPLOAD = "/v1/uploads/images"


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_accepted_formats_answer_the_top_level_object(client: httpx.Client, fmt: str, content_type: str) -> None:
    data = png_bytes((320, 320), fmt=fmt)
    before = int(time.time())
    response = client.post(UPLOAD, files={"file": (f"frame.{fmt.lower()}", data, "application/octet-stream")})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.keys() == {"url", "filename", "content_type", "bytes", "created_at"}
    assert answer["content_type"] == content_type
    assert answer["bytes"] == len(data)
    assert answer["filename"]
    assert answer["created_at"] >= before
    served = httpx.get(answer["url"])
    assert served.status_code == 200
    assert served.content == data


@pytest.mark.parametrize("payload", [b"not an image at all", png_bytes((64, 64), fmt="BMP")])
def test_other_files_are_refused(client: httpx.Client, payload: bytes) -> None:
    response = client.post(UPLOAD, files={"file": ("x.bin", payload, "image/png")})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_missing_file_field_is_refused(client: httpx.Client) -> None:
    response = client.post(UPLOAD, files={"image": ("x.png", png_bytes((64, 64)), "image/png")})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"
    assert client.post(UPLOAD, json={"file": "x"}).status_code == 400


def test_uploads_over_the_limit_are_refused(client: httpx.Client) -> None:
    too_big = png_bytes((64, 64)) + b"\0" * KLING_3_TURBO.upload_max_bytes
    response = client.post(UPLOAD, files={"file": ("big.png", too_big, "image/png")})
    assert response.status_code in (400, 413)
    assert response.json()["error"]["code"] == response.status_code


def test_upload_needs_the_key(server: LocalServer) -> None:
    response = httpx.post(f"{server.base_url}{UPLOAD}", files={"file": ("x.png", png_bytes((64, 64)), "image/png")})
    assert response.status_code == 401


@pytest.mark.parametrize(("image", "expected"), [((900, 600), (1080, 720)), ((500, 1000), (720, 1440))])
def test_own_upload_as_first_frame_sets_the_video_shape(
    server: LocalServer, client: httpx.Client, image: tuple[int, int], expected: tuple[int, int]
) -> None:
    url = client.post(UPLOAD, files={"file": ("f.png", png_bytes(image, (250, 20, 20)), "image/png")}).json()["url"]
    answer = client.post("/v1/videos/generations", json=body(first_frame_image=url, aspect_ratio="16:9"))
    task_id = answer.json()["data"][0]["task_id"]
    data = wait_for(client, task_id)
    video = httpx.get(data["result"]["videos"][0]["url"][0]).content
    task = server.state.tasks[task_id]
    assert (task.width, task.height) == expected
    import av

    with av.open(io.BytesIO(video)) as container:
        first = next(container.decode(video=0)).to_image()
    assert first.size == expected
    assert _close(first.getpixel((5, 5)), (250, 20, 20))


def test_an_unreachable_image_url_fails_the_task_with_the_reason(server: LocalServer, client: httpx.Client) -> None:
    """Issue 11 §7: no video is rendered without the picture it was asked for."""
    answer = client.post("/v1/videos/generations", json=body(first_frame_image="https://example.invalid/a.png"))
    task_id = answer.json()["data"][0]["task_id"]
    data = wait_for(client, task_id)
    assert data["status"] == "failed"
    assert "first_frame_image could not be fetched" in data["error"]["message"]
    assert "example.invalid" in data["error"]["message"]
    assert not server.state.tasks[task_id].video_path.exists()


def test_extreme_uploaded_ratio_is_refused(client: httpx.Client) -> None:
    url = client.post(UPLOAD, files={"file": ("f.png", png_bytes((1000, 300)), "image/png")}).json()["url"]
    response = client.post("/v1/videos/generations", json=body(first_frame_image=url))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "first_frame_image"


def _close(pixel: Any, colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


def test_uploaded_file_is_an_image(client: httpx.Client) -> None:
    url = client.post(UPLOAD, files={"file": ("f.jpg", png_bytes((300, 300), fmt="JPEG"), "image/jpeg")}).json()["url"]
    with Image.open(io.BytesIO(httpx.get(url).content)) as image:
        assert image.format == "JPEG"


@pytest.mark.parametrize(
    ("image", "fmt", "rule"),
    [((299, 400), "PNG", "first_frame_too_small"), ((640, 360), "WEBP", "first_frame_format")],
)
def test_uploaded_first_frame_follows_the_turbo_rules(
    client: httpx.Client, image: tuple[int, int], fmt: str, rule: str
) -> None:
    # The upload route takes WebP and small images; the model does not take them as a first frame.
    upload = client.post(UPLOAD, files={"file": ("f", png_bytes(image, fmt=fmt), f"image/{fmt.lower()}")})
    assert upload.status_code == 200
    response = client.post("/v1/videos/generations", json=body(first_frame_image=upload.json()["url"]))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "first_frame_image" and error["type"] == "invalid_request_error"
    assert error["message"].startswith(rule)


def test_square_upload_gets_the_one_to_one_size(server: LocalServer, client: httpx.Client) -> None:
    url = client.post(UPLOAD, files={"file": ("f.png", png_bytes((400, 400)), "image/png")}).json()["url"]
    answer = client.post("/v1/videos/generations", json=body(first_frame_image=url))
    task = server.state.tasks[answer.json()["data"][0]["task_id"]]
    assert (task.width, task.height) == KLING_3_TURBO.output_size("720p", "1:1")
