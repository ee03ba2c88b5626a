"""A remote planner that cannot answer (no server, a bad key) is an ``error:`` / ``fix:`` with exit 2, not a
traceback; against fake OpenAI-compatible servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from vidagent.agent import Agent
from vidagent.cli import main
from vidagent.errors import PlannerError

pytest.importorskip("langchain_openai")


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def unauthorized_server():
    """Answers every request like OpenAI does for a wrong key."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                         "code": "invalid_api_key"}}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def openai_planner(base_url: str):
    from langchain.chat_models import init_chat_model

    return init_chat_model("gpt-4o-mini", model_provider="openai", base_url=base_url, api_key="sk-test",
                           max_retries=0, timeout=5)


def test_refused_connection_is_a_planner_error_with_a_fix(tiny_video):
    agent = Agent(planner=openai_planner(f"http://127.0.0.1:{closed_port()}/v1"), tools=[])
    with pytest.raises(PlannerError) as caught:
        agent.ask(tiny_video, "How many dogs?")
    assert "Connection" in caught.value.problem and "gpt-4o-mini" in caught.value.problem
    assert "base URL" in caught.value.fix


def test_a_rejected_key_says_to_check_the_key(tiny_video, unauthorized_server):
    agent = Agent(planner=openai_planner(unauthorized_server), tools=[])
    with pytest.raises(PlannerError) as caught:
        agent.ask(tiny_video, "How many dogs?")
    assert "Authentication" in caught.value.problem and "API key" in caught.value.fix


def test_cli_prints_error_and_fix_and_exits_2(tiny_video, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("VIDAGENT_CACHE_DIR", str(tmp_path))
    code = main(["ask", str(tiny_video), "How many dogs?", "--planner", "openai:gpt-4o-mini", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: the planner gpt-4o-mini failed") and "\n  fix: " in err
    assert "Traceback" not in err


def test_cli_without_a_key_is_an_error_not_a_traceback(tiny_video, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = main(["ask", str(tiny_video), "How many dogs?", "--planner", "openai:gpt-4o-mini", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "OPENAI_API_KEY" in err and "Traceback" not in err
