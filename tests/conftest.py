"""Shared fixtures. The network guard makes any non-loopback connection fail the test that opens it."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("VIDAGENT_RESULT_CACHE", "off")  # tests opt in with their own cache dirs
os.environ.setdefault("VIDAGENT_INDEX", "off")  # likewise the video index (tests pass an IndexStore of their own)
os.environ.setdefault("VIDAGENT_PROGRESS", "off")


class NetworkAccessError(AssertionError):
    pass


def _is_local(address: object) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name that would need DNS


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise NetworkAccessError(f"test tried to open a network connection to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise NetworkAccessError(f"test tried to open a network connection to {address!r}")
    return _real_connect_ex(self, address)


_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    # a name lookup is the first step of every download: fail it loudly instead of letting a library retry
    if host not in (None, "", "localhost", b"localhost") and not _is_local((host,)):
        raise NetworkAccessError(f"test tried to look up the network host {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]


def moving_square_frames(n: int, width: int = 320, height: int = 240):
    """Frames whose red channel encodes the frame index, with a white square moving right."""
    for i in range(n):
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :, 0] = (i * 7) % 250
        x = (i * 3) % (width - 30)
        image[height // 3 : height // 3 + 30, x : x + 30] = 255
        yield image


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s, 10 fps, 320x240 H.264 video."""
    from vidagent.tools.video import write_video

    return write_video(tmp_path_factory.mktemp("video") / "tiny.mp4", moving_square_frames(60), fps=10)


@pytest.fixture()
def result_cache(tmp_path: Path):
    from vidagent.tools.cache import ResultCache

    return ResultCache(tmp_path / "results.sqlite")
