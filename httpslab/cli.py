"""``python -m httpslab``: an HTTPS GET and an HTTPS server from a shell, over httpslab's TLS 1.2.

Two commands (HTTP/1.1 over TLS 1.2 as RFC 2818 and RFC 5246 describe it):

- ``get https://HOST:PORT/PATH`` runs a client handshake (:class:`~httpslab.connection.ClientConnection`
  over a socket), sends ``GET PATH``, prints the response body to stdout and, with ``--trace``,
  the handshake ladder to stderr. On failure it prints one line such as
  ``httpslab: handshake failed: certificate has expired (alert certificate_expired sent)``
  and exits with status 1 (2 for usage errors). HOST must be ``localhost`` or a loopback
  address (127.0.0.0/8, ``::1``): any other host is refused before a socket is opened
  (exit status 2), because httpslab is a teaching tool whose demo keys are public.
- ``serve`` answers every HTTP request with a short page that names the negotiated version
  and cipher suite. Without ``--cert`` it builds the demo PKI (:mod:`httpslab.pki`) and says
  where the CA file is. It listens on 127.0.0.1 unless told otherwise, serves each client in
  its own thread and keeps serving after a client that fails.

The first line ``serve`` prints is ``listening on https://HOST:PORT/`` (tests read the port
from it).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import sys
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from .connection import ClientConnection, ConnectionClosed, ServerConnection, TLSConfig
from .crypto.suites import parse_suite_name
from .errors import AlertReceived, LocalProtocolError, ProtocolError, TLSError, TransportError, UsageError
from .io import (
    HANDSHAKE_TIMEOUT,
    TLSSession,
    load_credential,
    load_trust_anchors,
    loopback_connection,
    os_error_reason,
    require_loopback,
    server_config,
)
from .transcript import Transcript

__all__ = [
    "build_parser",
    "failure_line",
    "http_handler",
    "main",
    "page_for",
    "parse_https_url",
    "trace_text",
]

PROGRAM = "httpslab"
#: how much of an HTTP request head a server reads before giving up (bytes)
MAX_REQUEST_HEAD = 65536
#: the empty line that ends a request head: CRLF or a bare LF ends each line (RFC 9112 §2.2)
_END_OF_HEAD = re.compile(rb"\n\r?\n")
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


# ============================================================================ helpers


def parse_https_url(url: str) -> tuple[str, int, str]:
    """``https://HOST:PORT/PATH?QUERY`` -> (host, port, path with query); port 443 by default."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        raise UsageError(f"{url!r} is not an https:// URL")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise UsageError(f"{url!r} has an invalid port") from exc
    host = parts.hostname
    if not host:
        raise UsageError(f"{url!r} names no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return host, port, path


def _suites(names: Sequence[str] | None) -> tuple[object, ...] | None:
    if not names:
        return None
    suites = []
    for name in names:
        try:
            suites.append(parse_suite_name(name))
        except TLSError as exc:
            raise UsageError(f"unknown cipher suite {name!r}: {_reason(exc)}") from exc
    return tuple(suites)


def _reason(error: BaseException) -> str:
    """The message of an error on one line, without the ``(alert: ...)`` suffix."""
    text = str(error.args[0]) if isinstance(error, ProtocolError) and error.args else str(error)
    return " ".join(text.split())


def _sent_alert(transcript: Transcript | None, role: str) -> str | None:
    """The name of the fatal alert ``role`` put on the wire, if any (from the transcript)."""
    if transcript is None:
        return None
    for entry in reversed(transcript.entries):
        if entry.kind == "alert" and entry.sender == role and entry.raw[:1] == b"\x02":
            return entry.name.removeprefix("Alert ")
    return None


def _broken_socket(error: TLSError) -> OSError | None:
    """The OSError under a TransportError for a socket that broke (not a timeout), else None.

    A refused, reset or broken connection gets its own one-line message (``connection
    failed: Broken pipe``); a timeout is a handshake failure like any other.
    """
    cause = error.__cause__
    if (
        isinstance(error, TransportError)
        and isinstance(cause, OSError)
        and not isinstance(cause, TimeoutError)
    ):
        return cause
    return None


def _certificate_reason(connection: ClientConnection) -> str | None:
    """A short reason when the server's certificate was rejected (RFC 5280 check that failed)."""
    report = connection.verification_report
    if report is None or report.ok or report.error is None:
        return None
    check = report.error
    short = {
        "validity": "certificate has expired or is not yet valid",
        "path": "certificate is not signed by a trusted CA (unknown CA)",
        "name": "certificate does not match the host name",
        "signature": "certificate signature does not verify",
    }.get(check.name, f"certificate rejected at the {check.name!r} check")
    return f"{short}: {' '.join(check.explanation.split())}"


def failure_line(
    error: BaseException,
    connection: ClientConnection | ServerConnection | None,
    *,
    during_handshake: bool = True,
) -> str:
    """The one-line reason printed on a failure, naming the alert sent (or received)."""
    transcript = connection.transcript if connection is not None else None
    role = connection.role if connection is not None else "client"
    stage = "handshake failed" if during_handshake else "connection failed"
    reason = _certificate_reason(connection) if isinstance(connection, ClientConnection) else None
    reason = reason or _reason(error)
    if isinstance(error, AlertReceived):
        peer = connection.peer if connection is not None else "peer"
        reason = f"the {peer} refused to go on"
        alert = f"alert {error.description.name.lower()} received"
    else:
        sent = _sent_alert(transcript, role)
        alert = f"alert {sent} sent" if sent else "no alert sent"
    return f"{PROGRAM}: {stage}: {reason} ({alert})"


def trace_text(connection: ClientConnection | ServerConnection) -> str:
    """The annotated handshake: negotiated parameters, then the message ladder."""
    lines = []
    suite = connection.cipher_suite
    if suite is not None:
        lines.append(f"negotiated: TLSv1.2 {suite.name}")
        lines.append(
            "extended master secret: "
            + ("yes (RFC 7627)" if connection.extended_master_secret else "no")
            + "; encrypt-then-MAC: "
            + ("yes (RFC 7366)" if connection.encrypt_then_mac else "no")
        )
    if connection.server_name:
        lines.append(f"server name: {connection.server_name}")
    report = connection.verification_report
    if report is not None:
        lines.append("peer certificate: " + " ".join(report.summary().split()))
    records = connection.transcript.records()
    sent = sum(len(r.raw) for r in records if r.sender == connection.role)
    received = sum(len(r.raw) for r in records if r.sender != connection.role)
    lines.append(f"records: {len(records)} ({sent} bytes sent, {received} bytes received)")
    lines.append(connection.transcript.summary())
    return "\n".join(lines)


def _append_keylog(path: str, transcript: Transcript) -> None:
    line = transcript.keylog()
    if line:
        with open(path, "a", encoding="ascii") as file:
            file.write(line)


# ============================================================================ get


def _http_request(host: str, path: str) -> bytes:
    host_header = f"[{host}]" if ":" in host else host
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: httpslab\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def _split_response(response: bytes) -> tuple[str, bytes]:
    """(status line, body) of an HTTP/1.x response; handles Content-Length and chunked bodies."""
    head, separator, body = response.partition(b"\r\n\r\n")
    if not separator:
        raise TLSError("the server's answer is not an HTTP response (no end of headers)")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = lines[0]
    if not status.startswith("HTTP/"):
        raise TLSError(f"the server's answer is not an HTTP response: {status[:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    elif "content-length" in headers:
        with contextlib.suppress(ValueError):
            body = body[: int(headers["content-length"])]
    return status, body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError as exc:
            raise TLSError("malformed chunked HTTP body") from exc
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def run_get(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    host, port, path = parse_https_url(args.url)
    try:
        require_loopback(host)
    except LocalProtocolError as exc:  # before any socket: one line, no usage text
        print(f"{PROGRAM}: error: {_reason(exc)}", file=stderr)
        return EXIT_USAGE
    if args.key and not args.cert:
        raise UsageError("--key needs --cert")
    try:
        credentials = [load_credential(args.cert, args.key or args.cert)] if args.cert else []
        trust_anchors = load_trust_anchors(args.cafile or None)  # the system's CA file without --cafile
    except TLSError as exc:
        print(f"{PROGRAM}: {_reason(exc)}", file=stderr)
        return EXIT_FAILURE
    fields: dict[str, object] = {
        "server_name": args.server_name or host,
        "credentials": credentials,
        "trust_anchors": trust_anchors,
        "extended_master_secret": not args.no_ems,
    }
    suites = _suites(args.cipher)
    if suites:
        fields["cipher_suites"] = suites
    try:
        config = TLSConfig(**fields)  # type: ignore[arg-type]
    except TLSError as exc:
        raise UsageError(_reason(exc)) from exc
    try:
        sock = loopback_connection(host, port, args.timeout)
    except TransportError as exc:
        reason = os_error_reason(exc.__cause__) if isinstance(exc.__cause__, OSError) else _reason(exc)
        print(f"{PROGRAM}: cannot connect to {host}:{port}: {reason}", file=stderr)
        return EXIT_FAILURE
    connection = ClientConnection(config)
    session = TLSSession(sock, connection)
    handshake_done = False
    try:
        try:
            session.handshake(args.handshake_timeout)
            handshake_done = True
            session.send(_http_request(host, path))
            response = session.recv_all()
        finally:
            session.close()
            if args.keylog:  # also after a failure, once keys exist: Wireshark can show why
                _append_keylog(args.keylog, connection.transcript)
            if args.trace:
                print(trace_text(connection), file=stderr)
        if any(isinstance(e, ConnectionClosed) and not e.clean for e in session.events):
            print(
                f"{PROGRAM}: warning: the server closed the connection without close_notify "
                "(RFC 5246 §7.2.1): the response may be truncated",
                file=stderr,
            )
        status, body = _split_response(response)
    except TLSError as exc:
        broken = _broken_socket(exc)
        if broken is not None:
            print(f"{PROGRAM}: connection failed: {os_error_reason(broken)} (no alert sent)", file=stderr)
        else:
            print(failure_line(exc, connection, during_handshake=not handshake_done), file=stderr)
        return EXIT_FAILURE
    except OSError as exc:  # the --keylog file could not be written
        print(f"{PROGRAM}: connection failed: {exc.strerror or exc} (no alert sent)", file=stderr)
        return EXIT_FAILURE
    if args.trace:
        print(f"HTTP: {status}", file=stderr)
    stdout.flush()
    buffer = getattr(stdout, "buffer", None)
    if buffer is not None:
        buffer.write(body)
        buffer.flush()
    else:
        stdout.write(body.decode("utf-8", "replace"))
    return EXIT_OK


# ============================================================================ serve


def page_for(session: TLSSession, method: str, target: str) -> bytes:
    """The short text page ``serve`` answers with: version, suite and what was negotiated."""
    connection = session.connection
    suite = connection.cipher_suite
    lines = [
        "httpslab demo server (TLS by httpslab, keys are DEMO material)",
        f"version: {session.version}",
        f"cipher suite: {suite.name if suite else '?'}",
        f"extended master secret: {'yes' if connection.extended_master_secret else 'no'}",
        f"encrypt-then-MAC: {'yes' if connection.encrypt_then_mac else 'no'}",
        f"server name (SNI): {connection.server_name or '-'}",
        f"client certificate: {'yes' if connection.peer_certificates else 'no'}",
        f"request: {method} {target}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _read_request_head(session: TLSSession) -> bytes | None:
    """The request head up to its empty line; None if the client closes or sends too much."""
    data = bytearray()
    searched = 0  # the end of the head cannot start before this offset
    while _END_OF_HEAD.search(data, searched) is None:
        searched = max(0, len(data) - 2)
        chunk = session.recv()
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_REQUEST_HEAD:
            return None
    return bytes(data)


def http_handler(session: TLSSession) -> str:
    """Answer one HTTP request on ``session``; return a log line."""
    head = _read_request_head(session)
    if head is None:
        return "no HTTP request"
    # a bare LF ends a line too, and a CR before it is ignored (RFC 9112 §2.2)
    request_line = head.split(b"\n", 1)[0].removesuffix(b"\r").decode("iso-8859-1")
    method, _, rest = request_line.partition(" ")
    target = rest.rpartition(" ")[0] or rest or "/"
    if method in ("GET", "HEAD"):
        status, body = "200 OK", page_for(session, method, target)
    else:
        status, body = "405 Method Not Allowed", b"only GET and HEAD\n"
    response = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    session.send(response + (body if method != "HEAD" else b""))
    suite = session.cipher_suite
    return f"{method} {target} -> {status.split()[0]} {session.version} {suite.name if suite else '?'}"


def _demo_credentials(directory: Path) -> tuple[list[Path], list[Path], Path]:
    """Write the RSA and ECDSA demo PKIs; return (cert chains, keys, CA file with both roots)."""
    from .pki import demo_pki

    chains, keys, roots = [], [], b""
    for key_type in ("rsa", "ecdsa"):
        files = demo_pki(key_type).write_pem_files(directory)  # type: ignore[arg-type]
        chains.append(files.server_chain_file)
        keys.append(files.server_key_file)
        roots += files.ca_file.read_bytes()
    ca_file = directory / "httpslab-demo-ca.pem"
    ca_file.write_bytes(roots)
    return chains, keys, ca_file


def _serve_client(
    sock: socket.socket, peer: str, config: TLSConfig, args: argparse.Namespace, log: TextIO
) -> bool:
    sock.settimeout(args.timeout)
    connection = ServerConnection(config)
    session = TLSSession(sock, connection)
    handshake_done = False
    try:
        session.handshake(args.handshake_timeout)
        handshake_done = True
        if args.keylog:
            _append_keylog(args.keylog, connection.transcript)
        line = http_handler(session)
    except (TLSError, OSError) as exc:  # OSError: the --keylog file could not be written
        broken = _broken_socket(exc) if isinstance(exc, TLSError) else exc
        if broken is not None:
            message = f"{PROGRAM}: connection failed: {broken}"
        else:
            message = failure_line(exc, connection, during_handshake=not handshake_done)
        print(f"{peer} {message.removeprefix(PROGRAM + ': ')}", file=log, flush=True)
        with contextlib.suppress(OSError):
            sock.close()
        return False
    finally:
        session.close()
    print(f"{peer} {line}", file=log, flush=True)
    return True


def run_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    try:
        require_loopback(args.host, "listen on")
    except LocalProtocolError as exc:  # before any socket: one line, no usage text
        print(f"{PROGRAM}: error: {_reason(exc)}", file=stderr)
        return EXIT_USAGE
    if (args.cert is None) != (args.key is None):
        raise UsageError("--cert and --key go together")
    suites = _suites(args.cipher)
    scratch: tempfile.TemporaryDirectory[str] | None = None
    ca_file: Path | None = None
    if args.cert is None:
        scratch = tempfile.TemporaryDirectory(prefix="httpslab-serve-")
        chains, keys, ca_file = _demo_credentials(Path(scratch.name))
    else:
        chains, keys = [Path(args.cert)], [Path(args.key)]
    # RFC 7301: the HTTP/1.1 server selects "http/1.1" when a client offers it
    fields: dict[str, object] = {"extended_master_secret": not args.no_ems, "alpn_protocols": ("http/1.1",)}
    if suites:
        fields["cipher_suites"] = suites
    if args.client_ca:
        fields["cafile"] = args.client_ca
        fields["require_client_certificate"] = True
    try:
        config = server_config(chains, keys, **fields)
    except TLSError as exc:
        print(f"{PROGRAM}: {_reason(exc)}", file=stderr)
        return EXIT_FAILURE
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.host, args.port))
        listener.listen(16)
    except OSError as exc:
        print(f"{PROGRAM}: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=stderr)
        listener.close()
        return EXIT_FAILURE
    host, port = listener.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    print(f"listening on https://{shown_host}:{port}/", file=stdout)
    if ca_file is not None:
        print(f"CA file: {ca_file}", file=stdout)
    stdout.flush()
    try:
        if args.once:
            sock, address = listener.accept()
            return (
                EXIT_OK
                if _serve_client(sock, f"{address[0]}:{address[1]}", config, args, stderr)
                else EXIT_FAILURE
            )
        while True:
            sock, address = listener.accept()
            threading.Thread(
                target=_serve_client,
                args=(sock, f"{address[0]}:{address[1]}", config, args, stderr),
                daemon=True,
            ).start()
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        listener.close()
        if scratch is not None:
            scratch.cleanup()


# ============================================================================ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PROGRAM}",
        description=(
            "HTTPS over httpslab's own TLS 1.2, byte by byte (demo material): "
            "get and serve talk to loopback only (localhost, 127.0.0.0/8, ::1); serve listens on 127.0.0.1 by default."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    get = commands.add_parser(
        "get", help="fetch an https:// URL on loopback and print the body (other hosts are refused)"
    )
    get.add_argument("url", help="https://HOST:PORT/PATH with HOST localhost, 127.x.y.z or [::1]")
    get.add_argument("--cafile", help="PEM file of trusted CA certificates (default: the system's)")
    get.add_argument("--server-name", help="the name to check the certificate against and send as SNI")
    get.add_argument(
        "--cipher", action="append", metavar="NAME", help="offer this suite (IANA or OpenSSL name); repeat"
    )
    get.add_argument("--cert", help="client certificate chain (PEM)")
    get.add_argument("--key", help="client private key (PEM)")
    get.add_argument("--keylog", help="append the NSS key log line (CLIENT_RANDOM ...) to this file")
    get.add_argument("--trace", action="store_true", help="print the annotated handshake to stderr")
    get.add_argument(
        "--no-ems", action="store_true", help="do not offer the extended master secret (RFC 7627)"
    )
    get.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the server (default 10)"
    )
    get.add_argument(
        "--handshake-timeout",
        type=float,
        default=HANDSHAKE_TIMEOUT,
        help=f"seconds the whole handshake may take (default {HANDSHAKE_TIMEOUT:g})",
    )
    get.set_defaults(run=run_get)

    serve = commands.add_parser("serve", help="answer HTTPS requests with a page naming the TLS parameters")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to listen on (default 127.0.0.1; nothing else is accepted)",
    )
    serve.add_argument("--port", type=int, default=8443, help="port (default 8443; 0 picks a free one)")
    serve.add_argument("--cert", help="server certificate chain (PEM); default: a demo PKI")
    serve.add_argument("--key", help="server private key (PEM)")
    serve.add_argument(
        "--cipher", action="append", metavar="NAME", help="allow this suite; repeat (default: all)"
    )
    serve.add_argument("--client-ca", help="require a client certificate that chains to this CA file")
    serve.add_argument("--keylog", help="append each session's NSS key log line to this file")
    serve.add_argument("--once", action="store_true", help="serve one client, then exit")
    serve.add_argument("--no-ems", action="store_true", help="do not accept the extended master secret")
    serve.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for a client (default 10)"
    )
    serve.add_argument(
        "--handshake-timeout",
        type=float,
        default=HANDSHAKE_TIMEOUT,
        help=f"seconds a client's whole handshake may take (default {HANDSHAKE_TIMEOUT:g})",
    )
    serve.set_defaults(run=run_serve)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 usage error)."""
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    # System CA bundles hold old roots that cryptography warns about on every load.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"httpslab\.")
    warnings.filterwarnings("ignore", message=r".*serial number.*")
    try:
        return int(args.run(args, stdout, stderr))
    except UsageError as exc:
        parser.print_usage(stderr)
        print(f"{PROGRAM}: error: {exc}", file=stderr)
        return EXIT_USAGE
    except LocalProtocolError as exc:
        print(f"{PROGRAM}: {_reason(exc)}", file=stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
