import os
import socket

import pytest

from conftest import NetworkAccessError


def test_non_loopback_connection_fails_the_test():
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)


def test_looking_up_a_network_host_fails_the_test():
    with pytest.raises(NetworkAccessError):
        socket.getaddrinfo("huggingface.co", 443)


def test_a_hub_id_resolves_offline_without_a_lookup_in_library_use():
    """No CLI, so no offline environment: the planner loader itself must not ask the hub."""
    from vidagent.agent.planner_loading import load_planner
    from vidagent.errors import ConfigError

    with pytest.raises(ConfigError, match="not in the local Hugging Face cache"):
        load_planner("someone/some-model")


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()


def test_importing_vidagent_leaves_the_environment_alone_and_the_cli_goes_offline():
    import subprocess
    import sys

    probe = ("import os; before = dict(os.environ); import vidagent, vidagent.tools, vidagent.agent; "
             "print(sorted(set(os.environ) - set(before)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "YOLO_", "TRANSFORMERS_"))}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
    cli = ("import os; from vidagent.cli import main; main([]); "
           "print(os.environ['HF_HUB_OFFLINE'], os.environ['YOLO_OFFLINE'], os.environ['WANDB_MODE'])")
    out = subprocess.run([sys.executable, "-c", cli], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split()[-3:] == ["1", "true", "disabled"]


def test_ultralytics_is_prepared_offline_before_import():
    from vidagent.offline import prepare_ultralytics

    prepare_ultralytics()
    assert os.environ["YOLO_OFFLINE"] == "true" and os.environ["YOLO_AUTOINSTALL"] == "false"
