import socket

import pytest

from conftest import NetworkAccessError


def test_non_loopback_connection_fails_the_test():
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)


def test_loopback_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()


def test_importing_vidagent_sets_offline_defaults():
    import os

    import vidagent  # noqa: F401

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["YOLO_OFFLINE"] == "true"
