"""Handshake latency and bulk throughput: httpslab's client vs Python ``ssl`` (and tlslite-ng).

Not a test: run it by hand and compare with the figures in ``benchmarks/README.md``.

One ``openssl s_server`` on 127.0.0.1 (TLS 1.2, the demo RSA PKI from :mod:`httpslab.pki`)
serves every client. Measured, samples interleaved (httpslab, ssl, tlslite, httpslab, ...)
so that machine noise hits all clients alike:

- **handshake**: TCP connect + full TLS 1.2 handshake (no resumption), including the
  certificate check each client makes, until application data may flow; the close is not
  timed. Median of ``--handshakes`` runs per client.
- **bulk**: download of a ``--bulk-mib`` MiB file (``s_server -WWW``) over an established
  session, from the GET to the last byte; median of ``--bulk-runs`` runs; MB/s.

Targets (issue 4): httpslab's full ECDHE-RSA handshake within 1.5x the ``ssl`` client's
time, at least 3x faster than tlslite-ng's; bulk throughput at least half of ``ssl``'s.

    python benchmarks/bench_handshake.py                   # 200 handshakes, 16 MiB x 5
    python benchmarks/bench_handshake.py --profile         # + where httpslab's time goes
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import platform
import pstats
import socket
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cryptography

from httpslab.crypto.suites import parse_suite_name, suite_info
from httpslab.io import connect
from httpslab.peers.openssl import OpenSSLServer, openssl_s_server
from httpslab.pki import demo_pki

LOOPBACK = "127.0.0.1"
HOST_NAME = "localhost"

try:  # tlslite-ng is optional (pip install 'httpslab[bench]')
    import tlslite  # type: ignore[import-untyped]
    from tlslite.api import HandshakeSettings, TLSConnection  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - depends on the environment
    tlslite = None


# ---------------------------------------------------------------------------------- server


@contextlib.contextmanager
def running_server(directory: Path, bulk_bytes: int) -> Iterator[OpenSSLServer]:
    """``openssl s_server -WWW`` serving files from a scratch directory (also a bulk file),
    started by :func:`httpslab.peers.openssl.openssl_s_server` with the demo RSA chain."""
    files = demo_pki("rsa").write_pem_files(directory / "pki")
    (directory / "bulk.bin").write_bytes(os.urandom(bulk_bytes))
    (directory / "index.txt").write_bytes(b"hello\n")
    with openssl_s_server(
        cert_file=files.server_cert_file,
        key_file=files.server_key_file,
        chain_file=files.intermediate_file,
        ca_file=files.ca_file,
        www=False,
        extra_args=["-WWW", "-no_ticket"],  # files from cwd; every handshake a full one
        cwd=directory,
    ) as server:
        yield server


# ---------------------------------------------------------------------------------- clients


def _request(path: str) -> bytes:
    return f"GET /{path} HTTP/1.0\r\nHost: {HOST_NAME}\r\n\r\n".encode()


class HttpslabClient:
    name = "httpslab"

    def __init__(self, server: OpenSSLServer, suite: str) -> None:
        self.server, self.suite = server, parse_suite_name(suite)

    def handshake(self) -> object:
        return connect(
            LOOPBACK,
            self.server.port,
            server_name=HOST_NAME,
            cafile=self.server.ca_file,
            cipher_suites=[self.suite],
        )

    def download(self, session: object, path: str) -> int:
        session.send(_request(path))  # type: ignore[attr-defined]
        total = 0
        while chunk := session.recv():  # type: ignore[attr-defined]
            total += len(chunk)
        return total

    def close(self, session: object) -> None:
        session.close()  # type: ignore[attr-defined]


class HttpslabNoVerifyClient(HttpslabClient):
    """httpslab without the certificate check (informational: where the time goes)."""

    name = "httpslab, no cert check"

    def handshake(self) -> object:
        return connect(
            LOOPBACK, self.server.port, server_name=HOST_NAME, cipher_suites=[self.suite], verify=False
        )


class SSLClient:
    name = "ssl"

    def __init__(self, server: OpenSSLServer, suite: str) -> None:
        self.server = server
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.maximum_version = ssl.TLSVersion.TLSv1_2
        self.context.set_ciphers(suite_info(parse_suite_name(suite)).openssl_name)
        self.context.load_verify_locations(cafile=str(server.ca_file))

    def handshake(self) -> ssl.SSLSocket:
        raw = socket.create_connection((LOOPBACK, self.server.port))
        return self.context.wrap_socket(raw, server_hostname=HOST_NAME)

    def download(self, session: ssl.SSLSocket, path: str) -> int:
        session.sendall(_request(path))
        total = 0
        while chunk := session.recv(65536):
            total += len(chunk)
        return total

    def close(self, session: ssl.SSLSocket) -> None:
        session.close()


class TlsliteClient:
    """tlslite-ng's client; note that it does not check the certificate chain here."""

    name = "tlslite-ng"

    def __init__(self, server: OpenSSLServer, suite: str) -> None:
        self.server = server
        info = suite_info(parse_suite_name(suite))
        self.settings = HandshakeSettings()
        self.settings.minVersion = self.settings.maxVersion = (3, 3)
        self.settings.cipherNames = [
            {"AES128-GCM": "aes128gcm", "AES256-GCM": "aes256gcm"}.get(info.cipher, "aes128gcm")
        ]
        self.settings.keyExchangeNames = ["ecdhe_rsa"]

    def handshake(self) -> object:
        raw = socket.create_connection((LOOPBACK, self.server.port))
        connection = TLSConnection(raw)
        connection.handshakeClientCert(settings=self.settings, serverName=HOST_NAME)
        return connection

    def download(self, session: object, path: str) -> int:
        session.write(_request(path))  # type: ignore[attr-defined]
        total = 0
        while chunk := session.read():  # type: ignore[attr-defined]
            total += len(chunk)
        return total

    def close(self, session: object) -> None:
        session.close()  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- measuring


def measure_handshakes(clients: list, count: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and client-process CPU seconds per handshake, per client."""
    times: dict[str, list[float]] = {client.name: [] for client in clients}
    cpu: dict[str, list[float]] = {client.name: [] for client in clients}
    for client in clients:  # warm up: imports, caches, the server's first accept
        for _ in range(3):
            client.close(client.handshake())
    for _ in range(count):
        for client in clients:
            cpu_started = time.process_time()
            started = time.perf_counter()
            session = client.handshake()
            times[client.name].append(time.perf_counter() - started)
            cpu[client.name].append(time.process_time() - cpu_started)
            client.close(session)
    return times, cpu


def measure_bulk(clients: list, runs: int, size: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {client.name: [] for client in clients}
    for _ in range(runs):
        for client in clients:
            session = client.handshake()
            started = time.perf_counter()
            received = client.download(session, "bulk.bin")
            elapsed = time.perf_counter() - started
            client.close(session)
            if received < size:
                raise RuntimeError(f"{client.name} received {received} bytes, expected at least {size}")
            rates[client.name].append(size / elapsed / 1e6)
    return rates


def profile(call: Callable[[], object], repeat: int, limit: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handshakes", type=int, default=200)
    parser.add_argument("--bulk-mib", type=int, default=16)
    parser.add_argument("--bulk-runs", type=int, default=5)
    parser.add_argument("--suite", default="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    parser.add_argument("--profile", action="store_true", help="profile httpslab's handshake and bulk loops")
    args = parser.parse_args(argv)

    size = args.bulk_mib * 1024 * 1024
    with (
        tempfile.TemporaryDirectory(prefix="httpslab-bench-") as scratch,
        running_server(Path(scratch), size) as server,
    ):
        ours, theirs = HttpslabClient(server, args.suite), SSLClient(server, args.suite)
        clients: list = [ours, theirs]
        if tlslite is not None:
            clients.append(TlsliteClient(server, args.suite))
        clients.append(HttpslabNoVerifyClient(server, args.suite))
        handshakes, cpu = measure_handshakes(clients, args.handshakes)
        bulk = measure_bulk([ours, theirs], args.bulk_runs, size)
        profiles = []
        if args.profile:
            profiles.append(("handshake x 50", profile(lambda: ours.close(ours.handshake()), 50)))
            session = ours.handshake()
            profiles.append(("bulk download x 1", profile(lambda: ours.download(session, "bulk.bin"), 1)))
            ours.close(session)

    median = {name: statistics.median(values) for name, values in handshakes.items()}
    print(
        f"# {args.suite}; Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{ssl.OPENSSL_VERSION}"
        + (f", tlslite-ng {tlslite.__version__}" if tlslite is not None else ", tlslite-ng not installed")
        + f"; {os.cpu_count()} CPUs"
    )
    print()
    print(f"Handshake (connect + full handshake), median of {args.handshakes}:")
    print()
    print("| client | median ms | p10 ms | p90 ms | httpslab ÷ this | client CPU ms (median) |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, values in handshakes.items():
        deciles = statistics.quantiles(values, n=10)
        print(
            f"| {name} | {median[name] * 1e3:.2f} | {deciles[0] * 1e3:.2f} | {deciles[-1] * 1e3:.2f} | "
            f"{median['httpslab'] / median[name]:.2f} | {statistics.median(cpu[name]) * 1e3:.2f} |"
        )
    print()
    rate = {name: statistics.median(values) for name, values in bulk.items()}
    print(f"Bulk download of {args.bulk_mib} MiB, median of {args.bulk_runs}:")
    print()
    print("| client | median MB/s | httpslab ÷ this |")
    print("|---|--:|--:|")
    for name in rate:
        print(f"| {name} | {rate[name]:.1f} | {rate['httpslab'] / rate[name]:.2f} |")
    print()
    verdicts = [
        (
            "handshake within 1.5x ssl",
            median["httpslab"] <= 1.5 * median["ssl"],
            median["httpslab"] / median["ssl"],
        ),
        ("bulk at least 0.5x ssl", rate["httpslab"] >= 0.5 * rate["ssl"], rate["httpslab"] / rate["ssl"]),
    ]
    if "tlslite-ng" in median:
        speedup = median["tlslite-ng"] / median["httpslab"]
        verdicts.append(("handshake at least 3x faster than tlslite-ng", speedup >= 3, speedup))
    print("Targets:")
    for label, met, value in verdicts:
        print(f"- {label}: {'met' if met else 'NOT met'} ({value:.2f})")
    for title, text in profiles:
        print(f"\n## profile: httpslab {title}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
