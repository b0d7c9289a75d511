"""Shared fixtures: real OpenSSL peers on loopback, recorded sessions, and a loopback guard.

Every test runs under :func:`_loopback_only`, which fails any test that binds or connects a
socket to an address other than loopback (httpslab never reaches beyond 127.0.0.1).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from httpslab.peers.files import ServerIdentity, server_identity
from httpslab.peers.openssl import RecordedSession, record_session
from httpslab.relay import is_loopback

_BIND_ALLOWED = {"127.0.0.1", "::1", "localhost"}


def _host_of(address: Any) -> str | None:
    """The host of an AF_INET/AF_INET6 address tuple; None for other families (AF_UNIX)."""
    if isinstance(address, tuple) and address and isinstance(address[0], str):
        return address[0]
    return None


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if it binds anything but 127.0.0.1 (or ::1) or connects off loopback."""
    real_bind = socket.socket.bind
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_bind(self: socket.socket, address: Any) -> None:
        host = _host_of(address)
        if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
            assert host in _BIND_ALLOWED, f"a test tried to bind {address!r}: only 127.0.0.1 is allowed"
        real_bind(self, address)

    def check_connect(self: socket.socket, address: Any) -> None:
        host = _host_of(address)
        if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
            assert is_loopback(host), f"a test tried to connect to {address!r}: only loopback is allowed"

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check_connect(self, address)
        real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check_connect(self, address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "bind", guarded_bind)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield


@pytest.fixture(scope="session")
def rsa_identity() -> ServerIdentity:
    """A self-signed RSA-2048 demo certificate for localhost / 127.0.0.1."""
    return server_identity("rsa")


@pytest.fixture(scope="session")
def ecdsa_identity() -> ServerIdentity:
    """A self-signed ECDSA P-256 demo certificate for localhost / 127.0.0.1."""
    return server_identity("ecdsa")


@pytest.fixture(scope="session")
def recorded_session() -> Callable[..., RecordedSession]:
    """``recorded_session(suite, **options)``: a real OpenSSL session, recorded once per session.

    The same (suite, options) returns the same recording, so tests that only read a
    recording can share it. Use :func:`httpslab.peers.openssl.record_session` directly for
    a fresh one.
    """
    cache: dict[tuple[Any, ...], RecordedSession] = {}

    def get(suite: str, **options: Any) -> RecordedSession:
        key = (str(suite), tuple(sorted(options.items())))
        if key not in cache:
            cache[key] = record_session(suite, **options)
        return cache[key]

    return get
