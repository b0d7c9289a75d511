"""Full handshakes with ``cafile=`` passed on every call, against Python ``ssl`` with one context.

Not a test: run it by hand (see ``benchmarks/README.md``). Issue 13: a trust store loaded from
a file is reused while the file is unchanged, so ``connect(..., cafile=F)`` on every call
should cost about what a reused ``TLSConfig`` costs. Target: httpslab with ``cafile=`` per
call at most 1.2x the ``ssl`` client's time (median), samples interleaved against one
``openssl s_server -tls1_2 -WWW -no_ticket`` on 127.0.0.1 (demo RSA chain, ECDHE-RSA).

Rows: ``httpslab, cafile= per call`` (the target's row), ``httpslab, one TLSConfig`` (trust
anchors loaded once, for comparison), ``ssl, one context``. With ``--bundle`` the CA file is
the system's CA bundle with the demo root appended (a CA file of ~150 roots, as a real
trust store is), for httpslab and ``ssl`` alike.

    python benchmarks/bench_cafile.py                  # 80 handshakes per client
    python benchmarks/bench_cafile.py --bundle         # the same with a ~150-root CA file
"""

from __future__ import annotations

import argparse
import os
import platform
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cryptography
from bench_handshake import HOST_NAME, LOOPBACK, HttpslabClient, SSLClient, running_server

from httpslab.connection import TLSConfig
from httpslab.io import connect, load_trust_anchors
from httpslab.peers.openssl import OpenSSLServer


class CafileClient(HttpslabClient):
    """``connect(..., cafile=F)`` on every call (the row the target applies to)."""

    name = "httpslab, cafile= per call"

    def __init__(self, server: OpenSSLServer, suite: str, ca_file: Path) -> None:
        super().__init__(server, suite)
        self.ca_file = ca_file

    def handshake(self) -> object:
        return connect(
            LOOPBACK, self.server.port, server_name=HOST_NAME, cafile=self.ca_file, cipher_suites=[self.suite]
        )


class ConfigClient(HttpslabClient):
    """One TLSConfig whose trust anchors were loaded once, reused on every call."""

    name = "httpslab, one TLSConfig"

    def __init__(self, server: OpenSSLServer, suite: str, ca_file: Path) -> None:
        super().__init__(server, suite)
        self.config = TLSConfig(
            server_name=HOST_NAME, trust_anchors=load_trust_anchors(ca_file), cipher_suites=[self.suite]
        )

    def handshake(self) -> object:
        return connect(LOOPBACK, self.server.port, config=self.config)


class OneContextClient(SSLClient):
    """Python ``ssl``: one SSLContext that loaded the CA file once."""

    name = "ssl, one context"

    def __init__(self, server: OpenSSLServer, suite: str, ca_file: Path) -> None:
        super().__init__(server, suite)
        self.context.load_verify_locations(cafile=str(ca_file))


def measure_handshakes(clients: list, count: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and client CPU seconds per handshake; each round starts with the next client
    (the first of a round runs measurably slower, whichever it is)."""
    times: dict[str, list[float]] = {client.name: [] for client in clients}
    cpu: dict[str, list[float]] = {client.name: [] for client in clients}
    for client in clients:  # warm up: imports, caches, the server's first accept
        for _ in range(3):
            client.close(client.handshake())
    for round_number in range(count):
        start = round_number % len(clients)
        for client in clients[start:] + clients[:start]:
            cpu_started = time.process_time()
            started = time.perf_counter()
            session = client.handshake()
            times[client.name].append(time.perf_counter() - started)
            cpu[client.name].append(time.process_time() - cpu_started)
            client.close(session)
    return times, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handshakes", type=int, default=80)
    parser.add_argument("--suite", default="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    parser.add_argument("--bundle", action="store_true", help="the system CA bundle + the demo root")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory(prefix="httpslab-bench-") as scratch,
        running_server(Path(scratch), 1) as server,
    ):
        assert server.ca_file is not None
        ca_file = server.ca_file
        if args.bundle:
            system = ssl.get_default_verify_paths().cafile
            if system is None:
                parser.error("this system has no CA bundle file")
            ca_file = Path(scratch) / "bundle.pem"
            ca_file.write_bytes(Path(system).read_bytes() + b"\n" + server.ca_file.read_bytes())
        roots = len(load_trust_anchors(ca_file))
        clients = [
            CafileClient(server, args.suite, ca_file),
            ConfigClient(server, args.suite, ca_file),
            OneContextClient(server, args.suite, ca_file),
        ]
        times, cpu = measure_handshakes(clients, args.handshakes)

    median = {name: statistics.median(values) for name, values in times.items()}
    reference = median["ssl, one context"]
    print(
        f"# {args.suite}; CA file of {roots} root(s); Python {platform.python_version()}, "
        f"cryptography {cryptography.__version__}, {ssl.OPENSSL_VERSION}; {os.cpu_count()} CPUs"
    )
    print()
    print(
        f"Full handshake (connect + handshake), interleaved (rotating which goes first), median of {args.handshakes}:"
    )
    print()
    print("| client | median ms | p10 ms | p90 ms | this ÷ ssl | client CPU ms (median) |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        print(
            f"| {name} | {median[name] * 1e3:.2f} | {deciles[0] * 1e3:.2f} | {deciles[-1] * 1e3:.2f} | "
            f"{median[name] / reference:.2f} | {statistics.median(cpu[name]) * 1e3:.2f} |"
        )
    ratio = median["httpslab, cafile= per call"] / reference
    print()
    print(f"Target: cafile= per call within 1.2x ssl: {'met' if ratio <= 1.2 else 'NOT met'} ({ratio:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
