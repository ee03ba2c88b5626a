"""``langgraph dev`` serving the graph of ``langgraph.json``, driven with the official ``langgraph_sdk``.

One server per module, on a free loopback port, with a replayed planner (its replies are consumed in the
order of ``REPLIES``, by ``test_runs_threads_and_errors_reach_the_client``) and two tools from this folder.
It runs in a temporary directory, so its ``.langgraph_api/`` store lands there, not in the repository.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

INSTALL = "pip install -e '.[dev]'"
pytest.importorskip("langgraph_cli", reason=f"langgraph dev is langgraph-cli[inmem]: {INSTALL}")
pytest.importorskip("langgraph_api", reason=f"langgraph dev needs langgraph-cli[inmem]: {INSTALL}")
langgraph_sdk = pytest.importorskip("langgraph_sdk", reason=f"the client is langgraph-sdk: {INSTALL}")

from vidagent.agent.parsing import format_answer, format_tool_call
from vidagent.agent.state import AgentInput, Budget, BudgetInput
from vidagent.errors import VideoError
from vidagent.tools.video import VideoRef

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
LANGGRAPH = Path(sys.executable).with_name("langgraph")  # the CLI of this environment, as documented
STARTUP_S = 90
REPLIES = [
    format_tool_call("count_objects", {"start_s": 0, "end_s": 4}),  # first question
    format_answer("2"),
    format_answer("white"),  # the follow-up
    format_tool_call("buggy_tool", {"t_s": 1}),  # the crash
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_config(directory: Path) -> Path:
    """The repository's ``langgraph.json`` with its graph paths made absolute, so the server can run in
    ``directory``."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    for graph_id, spec in config["graphs"].items():
        path, _, attr = spec.partition(":")
        config["graphs"][graph_id] = f"{(ROOT / path).resolve()}:{attr}"
    target = directory / "langgraph.json"
    target.write_text(json.dumps(config))
    return target


def wait_until_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"langgraph dev did not answer within {STARTUP_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_video: Path):
    """(url, log file, network log) of a running ``langgraph dev``."""
    home = tmp_path_factory.mktemp("serve")
    replay = home / "replay.json"
    replay.write_text(json.dumps({"replies": REPLIES}))
    log, netlog = home / "server.log", home / "network.log"
    port = free_port()
    env = {**os.environ,
           "VIDAGENT_PLANNER": f"replay:{replay}",
           "VIDAGENT_TOOLS": "test_agent_graph:count_objects,serve_tools:buggy_tool",
           "VIDAGENT_TOOL_PROFILE": "real",  # the default, named: the served toolbox is built from it
           "PYTHONPATH": os.pathsep.join([str(TESTS / "netguard"), str(TESTS)]),
           "VIDAGENT_NETLOG": str(netlog),
           "LANGGRAPH_CLI_NO_ANALYTICS": "1",  # the CLI reads it before langgraph.json
           "LANGSMITH_TRACING": "false"}  # in case the developer's shell traces to LangSmith
    command = [str(LANGGRAPH), "dev", "--config", str(served_config(home)), "--host", "127.0.0.1",
               "--port", str(port), "--no-browser", "--no-reload"]
    with log.open("w") as out:
        # its own process group, so that teardown ends the server and anything it started
        process = subprocess.Popen(command, cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url, log)
        yield url, log, netlog
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def question(video: Path | str, text: str) -> dict:
    budget = {"max_tool_calls": 2, "frame_budget": 10}
    return {"video": str(video), "question": text, "budget": budget}


def stream(client, thread_id: str, inputs: dict) -> list:
    return list(client.runs.stream(thread_id, "vidagent", input=inputs, stream_mode="updates"))


def errors_of(parts: list) -> list[dict]:
    return [part.data for part in parts if part.event == "error"]


def test_the_assistant_shows_the_typed_input_schema(server):
    client = langgraph_sdk.get_sync_client(url=server[0])
    (assistant,) = client.assistants.search(graph_id="vidagent")
    schema = client.assistants.get_schemas(assistant["assistant_id"])["input_schema"]
    assert list(schema["properties"]) == list(AgentInput.__annotations__)
    assert schema["required"] == ["video", "question"]
    assert all(field.get("description") for name, field in schema["properties"].items() if name != "budget")
    budget = schema["$defs"]["BudgetInput"]
    assert set(budget["properties"]) == set(BudgetInput.__annotations__) == set(Budget.__dataclass_fields__)
    assert budget["additionalProperties"] is False  # a misspelt limit is an error


def test_runs_threads_and_errors_reach_the_client(server, tiny_video):
    client = langgraph_sdk.get_sync_client(url=server[0])
    thread = client.threads.create()["thread_id"]

    parts = stream(client, thread, question(tiny_video, "How many dogs?"))
    assert errors_of(parts) == []
    nodes = [node for part in parts if part.event == "updates" for node in part.data]
    assert nodes == ["start", "planner", "tools", "planner", "finalize"]
    final = client.threads.get_state(thread)["values"]["final"]
    assert final["answered"] and final["answer"]["value"] == 2

    parts = stream(client, thread, question(tiny_video, "What color are they?"))  # a follow-up, same thread
    state = client.threads.get_state(thread)["values"]
    assert errors_of(parts) == [] and state["turn"] == 2 and state["final"]["answer"]["value"] == "white"
    asked = [m["content"] for m in state["messages"] if m["type"] == "human"]
    assert any("How many dogs?" in text for text in asked) and any("What color" in text for text in asked)

    missing = tiny_video.parent / "missing.mp4"
    with pytest.raises(VideoError) as expected:
        VideoRef.open(str(missing))
    bad = client.threads.create()["thread_id"]
    assert errors_of(stream(client, bad, question(missing, "How many dogs?"))) == [
        {"error": "InputError", "message": str(expected.value)}]  # the text the CLI prints after "error: "
    assert client.threads.get(bad)["status"] == "error"
    assert client.threads.get_state(bad)["values"]["video"] == str(missing)  # the state still reads (no 500)

    (error,) = errors_of(stream(client, client.threads.create()["thread_id"], {"question": "How many dogs?"}))
    assert error["error"] == "InputError"
    assert error["message"].startswith("the run input is not valid: video is missing\n  fix: send {\"video\"")

    (error,) = errors_of(stream(client, client.threads.create()["thread_id"], question(tiny_video, "Crash?")))
    assert error["error"] == "ServedToolCrash"
    assert error["message"].startswith("tool buggy_tool crashed: KeyError: 'frame_index' at ")
    assert "\n  fix: report input the model can correct" in error["message"]


def test_the_server_blocks_no_event_loop_and_reaches_no_network(server):
    """Runs last: the server's log then covers start-up and every run above."""
    _, log, netlog = server
    text = log.read_text()
    assert "Application started up" in text
    assert "BlockingError" not in text and "Blocking call" not in text
    assert not netlog.exists(), f"the server tried the network:\n{netlog.read_text()}"
