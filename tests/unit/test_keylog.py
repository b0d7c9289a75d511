"""The NSS key log reader/writer, on key logs that OpenSSL itself wrote."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpslab.errors import KeyLogError, TLSError
from httpslab.keylog import CLIENT_RANDOM, TLS13_LABELS, KeyLog, KeyLogEntry
from httpslab.peers.files import server_identity


def _memory_handshake(tmp_path: Path, version: ssl.TLSVersion) -> tuple[str, bytes]:
    """Run an in-memory OpenSSL handshake (no sockets) with ``keylog_filename`` on the client.

    Returns the key log text and the ClientHello.random read from the client's first bytes.
    """
    identity = server_identity("rsa")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(identity.cert_file, identity.key_file)
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(cadata=identity.cert_pem.decode())
    for context in (server_context, client_context):
        context.minimum_version = context.maximum_version = version
    keylog_path = tmp_path / "keys.log"
    client_context.keylog_filename = str(keylog_path)

    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(client_in, client_out, server_hostname="localhost")
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    first_flight = b""
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, endpoint in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    endpoint.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        to_server = client_out.read()
        if not first_flight:
            first_flight = to_server
        server_in.write(to_server)
        client_in.write(server_out.read())
        if all(done.values()):
            break
    assert all(done.values()), "the in-memory handshake did not complete"
    client.write(b"ping")  # TLS 1.3 application traffic secrets are logged by now anyway
    # ClientHello.random: record header (5) + handshake header (4) + client_version (2)
    return keylog_path.read_text(), first_flight[11:43]


def test_parses_a_tls12_keylog_written_by_openssl(tmp_path: Path) -> None:
    text, client_random = _memory_handshake(tmp_path, ssl.TLSVersion.TLSv1_2)
    assert text.startswith("#")  # Python/OpenSSL write a comment header
    keylog = KeyLog.parse(text)
    assert [entry.label for entry in keylog.entries] == [CLIENT_RANDOM]
    master_secret = keylog.master_secret_for(client_random)
    assert len(master_secret) == 48
    assert master_secret.hex() in text
    assert keylog.client_randoms == (client_random,)


def test_keeps_the_tls13_labels_openssl_writes(tmp_path: Path) -> None:
    text, client_random = _memory_handshake(tmp_path, ssl.TLSVersion.TLSv1_3)
    keylog = KeyLog.parse(text)
    labels = {entry.label for entry in keylog.entries}
    assert labels >= {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "EXPORTER_SECRET",
    }
    assert labels <= TLS13_LABELS
    assert all(entry.client_random == client_random for entry in keylog.entries)
    assert len(keylog.secret_for("SERVER_TRAFFIC_SECRET_0", client_random)) in (32, 48)
    with pytest.raises(KeyLogError, match=client_random.hex()):
        keylog.master_secret_for(client_random)  # TLS 1.3 has no CLIENT_RANDOM line


def test_round_trip_dumps_parse_write_load(tmp_path: Path) -> None:
    keylog = KeyLog()
    keylog.add_master_secret(bytes(range(32)), bytes(range(100, 148)))
    keylog.add_secret("CLIENT_TRAFFIC_SECRET_0", b"\x01" * 32, b"\x02" * 48)
    keylog.add_secret("FUTURE_LABEL_NOBODY_KNOWS", b"\x03" * 32, b"\x04" * 5)
    text = keylog.dumps()
    assert text.splitlines()[0] == f"CLIENT_RANDOM {bytes(range(32)).hex()} {bytes(range(100, 148)).hex()}"
    assert KeyLog.parse(text).entries == keylog.entries

    path = tmp_path / "out.keylog"
    keylog.write(path)
    assert KeyLog.load(path).entries == keylog.entries  # a PathLike
    assert KeyLog.load(str(path)).entries == keylog.entries  # a path string
    assert KeyLog.load(text).entries == keylog.entries  # the text itself


def test_comments_blank_lines_crlf_and_upper_case_hex() -> None:
    client_random, secret = b"\xab" * 32, b"\xcd" * 48
    text = f"# a comment\r\n\r\n   \nCLIENT_RANDOM {client_random.hex().upper()}  {secret.hex().upper()}\r\n"
    keylog = KeyLog.parse(text)
    assert keylog.entries == (KeyLogEntry(CLIENT_RANDOM, client_random, secret),)
    assert client_random in keylog
    assert b"\x00" * 32 not in keylog


def test_unknown_labels_are_kept() -> None:
    keylog = KeyLog.parse(f"SOME_FUTURE_SECRET {'11' * 32} {'22' * 20}\n")
    assert keylog.secret_for("SOME_FUTURE_SECRET", b"\x11" * 32) == b"\x22" * 20


def test_rsa_label_keyed_by_encrypted_premaster_prefix() -> None:
    keylog = KeyLog.parse(f"RSA {'aa' * 8} {'03' * 48}\n")
    assert keylog.secret_for("RSA", b"\xaa" * 8) == b"\x03" * 48


def test_later_line_wins() -> None:
    client_random = b"\x05" * 32
    keylog = KeyLog.parse(
        f"CLIENT_RANDOM {client_random.hex()} {'01' * 48}\nCLIENT_RANDOM {client_random.hex()} {'02' * 48}\n"
    )
    assert keylog.master_secret_for(client_random) == b"\x02" * 48
    assert len(keylog) == 2


def test_missing_master_secret_names_the_client_random() -> None:
    keylog = KeyLog.parse(f"CLIENT_RANDOM {'00' * 32} {'01' * 48}\n")
    wanted = bytes(range(32))
    with pytest.raises(KeyLogError, match=wanted.hex()):
        keylog.master_secret_for(wanted)


GOOD_RANDOM, GOOD_SECRET = "ab" * 32, "cd" * 48


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (f"CLIENT_RANDOM {GOOD_RANDOM}zz {GOOD_SECRET}", "hex"),
        (f"CLIENT_RANDOM {GOOD_RANDOM} {GOOD_SECRET}0", "hex"),  # odd number of digits
        (f"CLIENT_RANDOM {'ab' * 31} {GOOD_SECRET}", "31 bytes"),
        (f"CLIENT_RANDOM {'ab' * 33} {GOOD_SECRET}", "33 bytes"),
        (f"CLIENT_RANDOM {GOOD_RANDOM} {'cd' * 47}", "47 bytes"),
        (f"CLIENT_TRAFFIC_SECRET_0 {GOOD_RANDOM} {'cd' * 20}", "20 bytes"),
        (f"RSA {'ab' * 32} {GOOD_SECRET}", "expected 8"),
        (f"CLIENT_RANDOM {GOOD_RANDOM}", "2 field"),
        (f"CLIENT_RANDOM {GOOD_RANDOM} {GOOD_SECRET} extra", "4 field"),
        (f"CLIENT-RANDOM {GOOD_RANDOM} {GOOD_SECRET}", "label"),
    ],
)
def test_malformed_lines_name_their_line_number(line: str, reason: str) -> None:
    text = f"# header\n\nCLIENT_RANDOM {'00' * 32} {'11' * 48}\n{line}\n"
    with pytest.raises(KeyLogError, match="line 4") as excinfo:
        KeyLog.parse(text)
    assert reason in str(excinfo.value)


def test_bad_inputs_raise_keylog_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyLogError):
        KeyLog.load(tmp_path / "does-not-exist.log")
    with pytest.raises(KeyLogError):
        KeyLog.parse(b"\xff\xfe binary")  # type: ignore[arg-type]
    with pytest.raises(KeyLogError):
        KeyLog.load(42)  # type: ignore[arg-type]
    with pytest.raises(KeyLogError):
        KeyLogEntry(CLIENT_RANDOM, b"\x00" * 32, b"\x00" * 47)
    with pytest.raises(KeyLogError):
        KeyLog().add_master_secret(b"short", b"\x00" * 48)
    # a one-line string that is not a file is parsed as text (and here it is malformed)
    with pytest.raises(KeyLogError, match="line 1"):
        KeyLog.load("no-such-file.keylog")
    assert issubclass(KeyLogError, TLSError)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["CLIENT_RANDOM", "CLIENT_TRAFFIC_SECRET_0", "X_NEW"]),
            st.binary(min_size=32, max_size=32),
            st.sampled_from([32, 48]),
            st.integers(0, 255),
        ),
        max_size=8,
    )
)
def test_dumps_parse_round_trip_property(rows: list[tuple[str, bytes, int, int]]) -> None:
    keylog = KeyLog()
    for label, client_random, length, fill in rows:
        length = 48 if label == "CLIENT_RANDOM" else length
        keylog.add_secret(label, client_random, bytes([fill]) * length)
    assert KeyLog.parse(keylog.dumps()).entries == keylog.entries
