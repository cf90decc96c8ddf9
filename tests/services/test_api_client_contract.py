"""The real KlingClient against the real local server over loopback sockets.

Requests are built by the domain compiler, exactly as the engine builds them; the videos are the
server's rendered animatics, opened with PyAV to prove they are real MP4 files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from kling_studio.domain.compiler import compile_storyboard
from kling_studio.domain.storyboard import FirstFrame, GenerationSettings, Shot, Storyboard
from kling_studio.localapi.runner import LocalServer
from kling_studio.localapi.server import LocalServerConfig
from kling_studio.services.api_client import KlingClient
from kling_studio.services.api_errors import AuthError, ValidationError
from kling_studio.services.api_models import TaskStatus
from kling_studio.services.retry import RetryPolicy
from tests.services.test_api_client_support import Sleeps

KEY = "sk-local-contract-key"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(LocalServerConfig(api_key=KEY, task_seconds=0.3)) as srv:
        yield srv


@pytest.fixture
def local(server: LocalServer) -> Iterator[LocalServer]:
    server.set_faults(None)
    yield server
    server.set_faults(None)


def client_for(server: LocalServer, key: str | None = KEY, sleeps: Sleeps | None = None) -> KlingClient:
    return KlingClient(key, server.base_url, retry=RetryPolicy(max_attempts=4), sleep=sleeps or Sleeps())


async def wait_done(client: KlingClient, task_id: str) -> TaskStatus:
    for _ in range(600):
        status = await client.get_task(task_id)
        if status.is_terminal:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never finished")


def probe(path: Path) -> tuple[int, int, float]:
    """Width, height and duration (s) of the first video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or stream.guessed_rate or 1)
        return stream.codec_context.width, stream.codec_context.height, frames / rate


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def compiled(storyboard: Storyboard) -> dict[str, object]:
    result = compile_storyboard(storyboard)
    assert result.ok, result.errors
    return result.request


async def test_text_to_video_end_to_end(local: LocalServer, tmp_path: Path) -> None:
    request = compiled(
        Storyboard(
            shots=(Shot("a lighthouse at dusk, waves below", 3),), settings=GenerationSettings(aspect_ratio="1:1")
        )
    )
    progress: list[tuple[int, int | None]] = []
    async with client_for(local) as client:
        task_id = await client.submit(request, "contract-t2v-1")
        status = await wait_done(client, task_id)
        assert status.status == "completed", status.error_message
        assert status.task_id == task_id and status.progress == 100
        assert status.video_urls and status.expires_at is not None
        dest = await client.download(
            status.video_urls[0], tmp_path / "t2v.mp4", on_progress=lambda d, t: progress.append((d, t))
        )
    width, height, seconds = probe(dest)
    assert (width, height) == (960, 960)
    assert seconds == pytest.approx(3, abs=0.5)
    assert progress[-1][0] == dest.stat().st_size
    assert names(tmp_path) == ["t2v.mp4"]


async def test_image_to_video_with_upload(local: LocalServer, tmp_path: Path) -> None:
    image = tmp_path / "frame.png"
    Image.new("RGB", (640, 400), (200, 120, 40)).save(image)
    async with client_for(local) as client:
        url = await client.upload_image(image)
        assert url.startswith(local.base_url)
        # As the engine does: compile with the local file, then send the uploaded URL in its place.
        request = compiled(
            Storyboard(shots=(Shot("the sun rises over the hills", 3),), first_frame=FirstFrame(path=str(image)))
        )
        request["first_frame_image"] = url
        assert "aspect_ratio" not in request
        task_id = await client.submit(request, "contract-i2v-1")
        status = await wait_done(client, task_id)
        assert status.status == "completed", status.error_message
        dest = await client.download(status.video_urls[0], tmp_path / "i2v.mp4")
    width, height, _ = probe(dest)
    assert height == 720
    assert width / height == pytest.approx(640 / 400, rel=0.02)


async def test_multi_shot_prompt(local: LocalServer, tmp_path: Path) -> None:
    storyboard = Storyboard(
        shots=(
            Shot("a girl walks toward a rain-streaked window", 2),
            Shot("close-up of her reflection; thunder flashes", 1),
            Shot("wide view of the empty street below", 1),
        )
    )
    request = compiled(storyboard)
    assert str(request["prompt"]).startswith("shot 1, 2, a girl walks")
    async with client_for(local) as client:
        task_id = await client.submit(request, "contract-multi-1")
        status = await wait_done(client, task_id)
        assert status.status == "completed", status.error_message
        dest = await client.download(status.video_urls[0], tmp_path / "multi.mp4")
    _, _, seconds = probe(dest)
    assert seconds == pytest.approx(4, abs=0.5)


async def test_model_schema_comes_from_the_limits_profile(local: LocalServer) -> None:
    async with client_for(local) as client:
        schema = await client.model_schema()
    assert schema["model"] == "kling-3.0-turbo"
    assert "duration" in str(schema["input_schema"])


async def test_a_bad_value_is_a_validation_error_and_is_not_resent(local: LocalServer) -> None:
    key = "contract-400-1"
    request = {"model": "kling-3.0-turbo", "prompt": "a cat", "duration": "6"}
    async with client_for(local) as client:
        with pytest.raises(ValidationError) as info:
            await client.submit(request, key)
    assert info.value.status == 400
    assert info.value.param == "duration"
    assert local.state.stats()["submissions_by_key"][key] == 1


@pytest.mark.parametrize("key", ["sk-wrong-key", None])
async def test_a_wrong_or_missing_key_is_an_auth_error(local: LocalServer, key: str | None) -> None:
    async with client_for(local, key) as client:
        with pytest.raises(AuthError) as info:
            await client.get_task("task_whatever")
    assert info.value.status == 401
    assert "API key" in str(info.value)


async def test_a_dropped_submit_is_resent_with_the_same_key_and_makes_one_task(local: LocalServer) -> None:
    local.set_faults("reset=1@submit")
    key = "contract-reset-1"
    request = compiled(Storyboard(shots=(Shot("a paper boat on a stream", 3),)))
    sleeps = Sleeps()
    async with client_for(local, sleeps=sleeps) as client:
        task_id = await client.submit(request, key)
        await wait_done(client, task_id)
    stats = local.state.stats()
    assert stats["submissions_by_key"][key] == 2
    assert stats["tasks_created_by_key"][key] == 1
    assert len(sleeps.calls) == 1


async def test_rate_limits_are_waited_out_with_retry_after(local: LocalServer) -> None:
    local.set_faults("429=2@status,retry_after=3")
    request = compiled(Storyboard(shots=(Shot("snow falling on a pine forest", 3),)))
    sleeps = Sleeps()
    async with client_for(local, sleeps=sleeps) as client:
        task_id = await client.submit(request, "contract-429-1")
        await client.get_task(task_id)
    assert sleeps.calls == [3.0, 3.0]


async def test_a_truncated_download_resumes(local: LocalServer, tmp_path: Path) -> None:
    request = compiled(Storyboard(shots=(Shot("a hot-air balloon drifting", 3),)))
    async with client_for(local) as client:
        status = await wait_done(client, await client.submit(request, "contract-trunc-1"))
        whole = await client.download(status.video_urls[0], tmp_path / "whole.mp4")
        local.set_faults("truncate=1@download")
        resumed = await client.download(status.video_urls[0], tmp_path / "resumed.mp4")
    assert resumed.read_bytes() == whole.read_bytes()
    assert local.state.stats()["requests_by_route"]["download"] >= 3
