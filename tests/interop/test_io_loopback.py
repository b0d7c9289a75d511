"""httpslab's blocking drivers and ``python -m httpslab get`` talk to loopback only.

A non-loopback host (an IP literal off 127.0.0.0/8 and ::1, or any name but ``localhost``)
is refused with a LocalProtocolError *before* a socket is opened: the tests make every way
of opening or resolving one fail the test. Loopback hosts still get a real connection.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from httpslab import cli
from httpslab.connection import Credential, TLSConfig
from httpslab.errors import LocalProtocolError, TransportError
from httpslab.io import TLSServer, connect, loopback_connection, require_loopback
from httpslab.pki.ca import DemoPKI
from httpslab.relay import is_loopback

NOT_LOOPBACK = [
    "8.8.8.8",
    "10.0.0.1",
    "192.168.1.1",
    "0.0.0.0",
    "::",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # IPv4-mapped: judged by the IPv4 address it carries
    "::ffff:10.0.0.1",
    "example.com",
    "localhost.example.com",
    "127.0.0.1.nip.io",  # a name that DNS would map to 127.0.0.1: still a name, still refused
    "",
]
LOOPBACK = ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_the_predicate_refuses(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("host", LOOPBACK)
def test_the_predicate_accepts(host: str) -> None:
    assert is_loopback(host)


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way to open a socket or resolve a name fails the test (and is recorded)."""
    calls: list[str] = []

    def forbidden(name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called for a refused host: {args!r}")

        return fail

    for name in ("create_connection", "getaddrinfo", "gethostbyname", "socket"):
        monkeypatch.setattr(socket, name, forbidden(f"socket.{name}"))
    yield calls
    assert calls == []


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_connect_refuses_before_any_socket(host: str, no_sockets: list[str]) -> None:
    with pytest.raises(LocalProtocolError) as info:
        connect(host, 443, timeout=1)
    message = str(info.value)
    assert "only talks to loopback (localhost, 127.0.0.0/8, ::1)" in message
    assert "teaching tool" in message and "demo keys" in message
    assert repr(host) in message


def test_loopback_connection_refuses_before_any_socket(no_sockets: list[str]) -> None:
    with pytest.raises(LocalProtocolError, match="loopback"):
        loopback_connection("example.com", 443)


def test_server_refuses_before_any_socket(no_sockets: list[str]) -> None:
    pki = DemoPKI("ecdsa")
    config = TLSConfig(credentials=[Credential((pki.server,), pki.server_key)])
    with pytest.raises(
        LocalProtocolError, match=r"refusing to listen on '10\.0\.0\.1'.*only talks to loopback"
    ):
        TLSServer(config, host="10.0.0.1")


@pytest.mark.parametrize(
    "url",
    ["https://8.8.8.8/", "https://example.com:8443/x", "https://10.0.0.1/", "https://[::ffff:8.8.8.8]/"],
)
def test_cli_get_refuses_with_one_line_and_status_2(url: str, no_sockets: list[str]) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = cli.main(["get", url], stdout=stdout, stderr=stderr)
    err = stderr.getvalue()
    assert status == 2
    assert stdout.getvalue() == ""
    assert err.count("\n") == 1 and err.startswith("httpslab: error: refusing to connect to ")
    assert "only talks to loopback" in err and "Traceback" not in err and "(alert" not in err


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "::", "example.com"])
def test_cli_serve_refuses_a_non_loopback_host_with_one_line_and_status_2(
    host: str, no_sockets: list[str]
) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    status = cli.main(["serve", "--host", host, "--port", "0"], stdout=stdout, stderr=stderr)
    err = stderr.getvalue()
    assert status == 2
    assert stdout.getvalue() == ""
    assert err.count("\n") == 1 and err.startswith(f"httpslab: error: refusing to listen on {host!r}")
    assert "only talks to loopback" in err and "Traceback" not in err


def test_cli_help_says_get_is_loopback_only() -> None:
    text = cli.build_parser().format_help()
    assert "loopback only" in " ".join(text.split())
    assert "loopback by default" not in text


# ------------------------------------------------------------------ loopback hosts connect
@pytest.fixture(scope="module")
def pki() -> DemoPKI:
    return DemoPKI("ecdsa")


@pytest.fixture(scope="module")
def ca_file(pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return pki.write_pem_files(tmp_path_factory.mktemp("pem")).ca_file


def _echo_once(pki: DemoPKI, host: str, ca_file: Any, connect_host: str) -> bytes:
    config = TLSConfig(credentials=[Credential((pki.server, pki.intermediate), pki.server_key)])
    with TLSServer(config, host=host, timeout=5) as server:
        server.serve_in_background(max_sessions=1)
        with connect(
            connect_host, server.address[1], server_name="localhost", cafile=ca_file, timeout=5
        ) as session:
            session.send(b"ping")
            return session.recv()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_connect_reaches_a_server_on_ipv4_loopback(pki: DemoPKI, ca_file: Any, host: str) -> None:
    assert _echo_once(pki, "127.0.0.1", ca_file, host) == b"ping"


def test_connect_reaches_a_server_on_ipv6_loopback(pki: DemoPKI, ca_file: Any) -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"IPv6 loopback (::1) is not available on this machine: {exc}")
    assert _echo_once(pki, "::1", ca_file, "::1") == b"ping"


def test_other_127_addresses_pass_the_check_and_really_connect() -> None:
    # The test guard allows binding 127.0.0.1 only, so nothing listens on 127.0.0.2: a real
    # connection attempt is made (and refused by the OS), proving the policy let it through.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    require_loopback("127.0.0.2")
    with pytest.raises(TransportError, match=r"^connecting to 127\.0\.0\.2:\d+ failed") as info:
        loopback_connection("127.0.0.2", port, timeout=2)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)  # the OS really refused it
