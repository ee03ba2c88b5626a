"""The network guard of tests/conftest.py for the ``langgraph dev`` server that tests/test_serve.py starts
(its PYTHONPATH begins with this folder, so Python imports this module at start-up).

A connection or a name lookup to anything but loopback fails, and is also written to ``$VIDAGENT_NETLOG``:
the server swallows the errors of its background threads (a version check, analytics), so only the log
shows that one was tried.
"""

from __future__ import annotations

import ipaddress
import os
import socket

LOG = os.environ["VIDAGENT_NETLOG"]


def _is_local(host: object) -> bool:
    if host in (None, "", "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name that would need DNS


def _refuse(what: str) -> None:
    with open(LOG, "a") as log:
        log.write(what + "\n")
    raise OSError(f"the test network guard refused {what}")


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: object) -> None:
    if isinstance(address, tuple) and not _is_local(address[0]):
        _refuse(f"connect {address!r}")
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if isinstance(address, tuple) and not _is_local(address[0]):
        _refuse(f"connect {address!r}")
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if not _is_local(host):
        _refuse(f"lookup {host!r}")
    return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
