"""Every fault kind, observed the way a client would see it over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from kling_studio.localapi.faults import FaultSpec
from kling_studio.localapi.runner import LocalServer

from .conftest import AUTH, body, submit, wait_for

SUBMIT = "/v1/videos/generations"


def test_429_carries_retry_after(make_server: Any) -> None:
    server = make_server(faults="429=2@submit,retry_after=3")
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        for _ in range(2):
            response = client.post(SUBMIT, json=body())
            assert response.status_code == 429
            assert response.headers["retry-after"] == "3"
            assert response.json()["error"] == {
                "code": 429,
                "message": response.json()["error"]["message"],
                "type": "rate_limit_error",
            }
        assert client.post(SUBMIT, json=body()).status_code == 200
    assert server.state.stats()["submissions"] == 3
    assert len(server.state.created_tasks) == 1


@pytest.mark.parametrize(("kind", "type_"), [("500", "server_error"), ("502", "bad_gateway"), ("503", "server_error")])
def test_server_errors_come_in_bursts_on_their_route(
    server: LocalServer, client: httpx.Client, kind: str, type_: str
) -> None:
    task_id = submit(client)
    server.set_faults(f"{kind}=2@status")
    assert client.get("/v1/model-schema").status_code == 200
    for _ in range(2):
        response = client.get(f"/v1/tasks/{task_id}")
        assert response.status_code == int(kind)
        assert response.json()["error"]["type"] == type_
    assert client.get(f"/v1/tasks/{task_id}").status_code == 200


def test_reset_drops_the_connection_after_the_task_is_created(server: LocalServer, client: httpx.Client) -> None:
    server.set_faults("reset=1@submit")
    key = {"Idempotency-Key": "lost-answer"}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post(SUBMIT, json=body(), headers=key)
    retry = client.post(SUBMIT, json=body(), headers=key)
    assert retry.status_code == 200
    assert retry.headers["idempotency-replayed"] == "true"
    assert server.state.submissions_by_key == {"lost-answer": 2}
    assert server.state.tasks_created_by_key == {"lost-answer": 1}


def test_reset_on_status(server: LocalServer, client: httpx.Client) -> None:
    task_id = submit(client)
    server.state.faults = FaultSpec.parse("reset@status")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get(f"/v1/tasks/{task_id}")
    assert client.get(f"/v1/tasks/{task_id}").status_code == 200


def test_truncated_download_then_a_whole_one(server: LocalServer, client: httpx.Client) -> None:
    url = wait_for(client, submit(client))["result"]["videos"][0]["url"][0]
    server.set_faults("truncate=1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert len(whole.content) == int(whole.headers["content-length"])


def test_truncated_download_sends_the_full_length_first(server: LocalServer, client: httpx.Client) -> None:
    url = wait_for(client, submit(client))["result"]["videos"][0]["url"][0]
    size = len(httpx.get(url).content)
    server.set_faults("truncate")
    received = bytearray()

    def read_all() -> None:
        with httpx.stream("GET", url) as response:
            assert int(response.headers["content-length"]) == size
            for chunk in response.iter_bytes():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        read_all()
    assert 0 < len(received) < size


def test_slow_answers(make_server: Any) -> None:
    server = make_server(faults="slow=1@schema")
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v1/model-schema", timeout=0.2)
        assert client.post(SUBMIT, json=body(), timeout=5).status_code == 200


def test_fail_makes_the_task_fail(server: LocalServer, client: httpx.Client) -> None:
    server.set_faults("fail=1")
    failed = wait_for(client, submit(client))
    assert failed["status"] == "failed"
    assert failed["progress"] == 0
    assert failed["error"]["code"] == 400
    assert failed["error"]["message"]
    assert failed["error"]["type"]
    assert "result" not in failed
    assert wait_for(client, submit(client))["status"] == "completed"


def test_object_fault_answers_data_as_an_object(server: LocalServer, client: httpx.Client) -> None:
    server.set_faults("object=1")
    answer = client.post(SUBMIT, json=body()).json()
    assert isinstance(answer["data"], dict) and answer["data"]["id"].startswith("task_")
    assert isinstance(client.post(SUBMIT, json=body()).json()["data"], list)


def test_expire_fault_makes_links_die_soon_after_completion(make_server: Any) -> None:
    server = make_server(task_seconds=0, faults="expire=0.5")
    with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
        data = wait_for(client, submit(client))
        video = data["result"]["videos"][0]
        assert video["expires_at"] - data["completed"] <= 1
        time.sleep(0.6)
        response = httpx.get(video["url"][0])
        assert response.status_code in (403, 404)
        assert "expired" in response.text


def test_probabilistic_faults_are_reproducible(make_server: Any) -> None:
    outcomes = []
    for _ in range(2):
        server = make_server(faults="500=0.5@schema,seed=11")
        with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
            outcomes.append([client.get("/v1/model-schema").status_code for _ in range(16)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


def test_upload_route_faults(server: LocalServer, client: httpx.Client) -> None:
    server.set_faults("503=1@upload")
    response = client.post("/v1/uploads/images", files={"file": ("a.png", b"x" * 100, "image/png")})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == 503


def test_stats_are_never_faulted(server: LocalServer, client: httpx.Client) -> None:
    server.set_faults("500=1.0")
    assert client.get("/_local/stats").json()["faults"] == "500=1.0"
