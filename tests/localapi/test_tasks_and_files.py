"""Task status over real HTTP, and the result file route (Range, expiry)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from kling_studio.domain.limits import KLING_3_TURBO
from kling_studio.localapi.runner import LocalServer

from .conftest import AUTH, body, submit, wait_for


def test_lifecycle_reaches_completed_with_the_contract_fields(make_server: Any) -> None:
    server = make_server(task_seconds=0.6)
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        task_id = submit(client, duration=4, resolution="1080p")
        seen: list[tuple[str, int]] = []
        while True:
            data = client.get(f"/v1/tasks/{task_id}", params={"language": "en"}).json()["data"]
            seen.append((data["status"], data["progress"]))
            if data["status"] == "completed":
                break
            assert data["status"] in ("pending", "processing")
            time.sleep(0.03)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "pending"
    assert "processing" in statuses
    progress = [p for _, p in seen]
    assert progress == sorted(progress)
    assert data["id"] == task_id
    assert data["progress"] == 100
    assert isinstance(data["created"], int)
    assert isinstance(data["completed"], int) and data["completed"] >= data["created"]
    assert isinstance(data["estimated_time"], int)
    assert isinstance(data["actual_time"], int)
    [video] = data["result"]["videos"]
    assert isinstance(video["url"], list) and len(video["url"]) == 1
    assert video["url"][0].startswith(server.base_url)
    assert video["expires_at"] == data["completed"] + KLING_3_TURBO.default_link_lifetime_s
    assert data["cost"] == float(KLING_3_TURBO.price_per_second_usd["1080p"] * 4)


def test_zero_task_seconds_completes_as_soon_as_the_file_is_ready(make_server: Any) -> None:
    server = make_server(task_seconds=0)
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        data = wait_for(client, submit(client))
        assert data["status"] == "completed"
        assert client.get(data["result"]["videos"][0]["url"][0]).status_code == 200


def test_unknown_task_is_404_with_the_envelope(client: httpx.Client) -> None:
    response = client.get("/v1/tasks/task_01ABCDEFGHJKMNPQRSTVWXYZ00")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404
    assert response.json()["error"]["message"]


def test_status_needs_the_key(server: LocalServer, client: httpx.Client) -> None:
    task_id = submit(client)
    response = httpx.get(f"{server.base_url}/v1/tasks/{task_id}")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_result_file_supports_range_requests(client: httpx.Client) -> None:
    data = wait_for(client, submit(client))
    url = data["result"]["videos"][0]["url"][0]
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    assert whole.content[4:8] == b"ftyp"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.headers["content-length"] == "100"
    tail = httpx.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole.content[-50:]
    resumed = httpx.get(url, headers={"Range": f"bytes={len(whole.content) - 10}-"})
    assert resumed.content == whole.content[-10:]


def test_result_file_is_missing_until_completed(make_server: Any) -> None:
    server = make_server(task_seconds=30)
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        task_id = submit(client)
        token = server.state.tasks[task_id].file_token
        response = httpx.get(f"{server.base_url}/files/videos/{token}/{task_id}.mp4")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == 404
        assert httpx.get(f"{server.base_url}/files/videos/{token}/task_nothing.mp4").status_code == 404


def test_links_expire_after_their_lifetime(make_server: Any) -> None:
    server = make_server(task_seconds=0, link_lifetime_s=0.5)
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        task_id = submit(client)
        data = wait_for(client, task_id)
        url = data["result"]["videos"][0]["url"][0]
        time.sleep(0.6)
        response = httpx.get(url)
        assert response.status_code == 403
        assert "expired" in response.json()["error"]["type"]
        later = client.get(f"/v1/tasks/{task_id}").json()["data"]
        assert later["result"]["videos"][0]["expires_at"] <= time.time()


def test_tasks_are_listed_on_the_state(server: LocalServer, client: httpx.Client) -> None:
    ids = [submit(client) for _ in range(3)]
    assert server.state.created_tasks == ids
    assert client.get("/_local/stats").json()["tasks"] == ids


def test_a_video_is_rendered_for_the_requested_shape(server: LocalServer, client: httpx.Client) -> None:
    task_id = submit(client, prompt="shot 1, 1, a; shot 2, 2, b;", duration=3, aspect_ratio="9:16")
    wait_for(client, task_id)
    task = server.state.tasks[task_id]
    assert (task.width, task.height) == KLING_3_TURBO.output_size("720p", "9:16")
    assert task.shots == (("a", 1), ("b", 2))
    assert task.video_path.is_file()


def test_object_shape_answer_polls_the_same_way(client: httpx.Client) -> None:
    answer = client.post(
        "/v1/videos/generations", json=body(), headers={"X-APIMart-Response-Version": "2026-07-27"}
    ).json()
    assert wait_for(client, answer["data"]["id"])["status"] == "completed"
