"""In-memory ClientConnection <-> ServerConnection: every suite, EMS/EtM, mTLS, errors, close."""

from __future__ import annotations

import datetime as dt
import os
import random
import ssl

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from httpslab.connection import (
    ApplicationData,
    ClientConnection,
    ConnectionClosed,
    Credential,
    HandshakeComplete,
    Primitives,
    ServerConnection,
    TLSConfig,
    WarningAlertReceived,
)
from httpslab.connection.tables import CLIENT_TRANSITIONS, SERVER_TRANSITIONS, State, next_states
from httpslab.crypto import keyexchange, keyschedule
from httpslab.crypto.suites import SUITES, suite_info
from httpslab.enums import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
)
from httpslab.errors import (
    AlertReceived,
    BadCertificate,
    BadRecordMac,
    DecryptError,
    HandshakeFailure,
    IllegalParameter,
    LocalProtocolError,
    NotTLSError,
    ProtocolError,
    RemoteProtocolError,
    TLSError,
    UnexpectedMessage,
)
from httpslab.keylog import KeyLog
from httpslab.messages import (
    Alert,
    ClientHello,
    HelloRequest,
    ServerHello,
    decode_alert,
    decode_handshake,
    encode_handshake,
)
from httpslab.pki.ca import DemoPKI
from httpslab.record import Record, RecordProtection, split_records

# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rsa_pki() -> DemoPKI:
    return DemoPKI("rsa")


@pytest.fixture(scope="module")
def ec_pki() -> DemoPKI:
    return DemoPKI("ecdsa")


@pytest.fixture(scope="module")
def server_credentials(rsa_pki: DemoPKI, ec_pki: DemoPKI) -> list[Credential]:
    return [
        Credential((rsa_pki.server, rsa_pki.intermediate), rsa_pki.server_key),
        Credential((ec_pki.server, ec_pki.intermediate), ec_pki.server_key),
    ]


@pytest.fixture(scope="module")
def anchors(rsa_pki: DemoPKI, ec_pki: DemoPKI) -> list:
    return [rsa_pki.root, ec_pki.root]


def pump(client: ClientConnection, server: ServerConnection) -> tuple[list, list]:
    """Move bytes both ways until neither side has anything to send."""
    client_events: list = []
    server_events: list = []
    for _ in range(20):
        to_server = client.data_to_send()
        if to_server:
            server_events += server.receive_data(to_server)
        to_client = server.data_to_send()
        if to_client:
            client_events += client.receive_data(to_client)
        if not to_server and not to_client:
            break
    return client_events, server_events


def make_pair(anchors, credentials, *, client=None, server=None):
    client_config = TLSConfig(**{"server_name": "localhost", "trust_anchors": anchors, **(client or {})})
    server_config = TLSConfig(credentials=credentials, trust_anchors=anchors, **(server or {}))
    return ClientConnection(client_config), ServerConnection(server_config)


def handshake(anchors, credentials, **kwargs):
    client, server = make_pair(anchors, credentials, **kwargs)
    client.start_handshake()
    client_events, server_events = pump(client, server)
    return client, server, client_events, server_events


def alerts_in(data: bytes) -> list[Alert]:
    """Alerts in plaintext records (the fatal alerts sent before encryption starts)."""
    records, _ = split_records(data)
    return [decode_alert(r.fragment) for r in records if r.content_type == ContentType.ALERT]


# -------------------------------------------------------------------------- every suite


@pytest.mark.parametrize("suite", list(SUITES), ids=lambda s: s.name)
@pytest.mark.parametrize("ems", [True, False], ids=["ems", "no-ems"])
@pytest.mark.parametrize("etm", [True, False], ids=["etm", "no-etm"])
def test_every_suite_handshakes_and_carries_data(anchors, server_credentials, suite, ems, etm):
    client, server, client_events, server_events = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": [suite], "extended_master_secret": ems, "encrypt_then_mac": etm},
        server={"extended_master_secret": True, "encrypt_then_mac": True},
    )
    info = suite_info(suite)
    done = [e for e in client_events if isinstance(e, HandshakeComplete)]
    assert len(done) == 1 and done[0].cipher_suite == suite
    assert next(e for e in server_events if isinstance(e, HandshakeComplete)).cipher_suite == suite
    assert client.extended_master_secret is ems and server.extended_master_secret is ems
    expected_etm = etm and not info.is_aead
    assert client.encrypt_then_mac is expected_etm and server.encrypt_then_mac is expected_etm
    # both sides derived the same secrets, and the client's EMS matches RFC 7627 recomputed
    assert client.transcript.secrets.master_secret == server.transcript.secrets.master_secret
    secrets = client.transcript.secrets
    if ems:
        log = b"".join(
            e.raw for e in client.transcript.handshake_messages() if e.name != "Finished"
        )  # through ClientKeyExchange (no CertificateVerify here)
        session_hash = keyschedule.transcript_hash(log, info.prf_hash)
        assert secrets.master_secret == keyschedule.extended_master_secret(
            secrets.premaster_secret, session_hash, info.prf_hash
        )
    else:
        assert secrets.master_secret == keyschedule.master_secret(
            secrets.premaster_secret, secrets.client_random, secrets.server_random, info.prf_hash
        )
    client.send_data(b"GET / HTTP/1.1\r\n\r\n")
    _, server_events = pump(client, server)
    assert server_events == [ApplicationData(b"GET / HTTP/1.1\r\n\r\n")]
    server.send_data(b"x" * 20000)  # two records
    client_events, _ = pump(client, server)
    assert b"".join(e.data for e in client_events) == b"x" * 20000
    client.close()
    _, server_events = pump(client, server)
    assert server_events == [ConnectionClosed(by_peer=True, clean=True)]
    assert client.state is State.CLOSED and server.state is State.CLOSED


def test_server_picks_its_own_preference(anchors, server_credentials):
    preferred = CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        server={"cipher_suites": [preferred, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]},
    )
    assert client.cipher_suite == preferred == server.cipher_suite


def test_server_without_ecdsa_certificate_skips_ecdsa_suites(anchors, server_credentials):
    client, server = make_pair(
        anchors,
        server_credentials[:1],
        client={"cipher_suites": [CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]},
    )
    client.start_handshake()
    with pytest.raises(HandshakeFailure, match="no shared cipher"):
        server.receive_data(client.data_to_send())
    assert [a.description for a in alerts_in(server.data_to_send())] == [AlertDescription.HANDSHAKE_FAILURE]
    with pytest.raises(AlertReceived) as info:
        client.receive_data(alerts_in_bytes(AlertDescription.HANDSHAKE_FAILURE))
    assert info.value.description == AlertDescription.HANDSHAKE_FAILURE


def alerts_in_bytes(description: AlertDescription) -> bytes:
    return Record(ContentType.ALERT, 0x0303, bytes([2, description])).encode()


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([NamedGroup.SECP256R1], NamedGroup.SECP256R1),
        ([NamedGroup.X25519, NamedGroup.SECP256R1], NamedGroup.X25519),
    ],
)
def test_ecdhe_curve_follows_client_groups(anchors, server_credentials, groups, expected):
    client, _, _, _ = handshake(
        anchors,
        server_credentials,
        client={"groups": groups, "cipher_suites": [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]},
    )
    ske = client.transcript.find("ServerKeyExchange").decoded
    assert ske.params.named_curve == expected


def test_dhe_group_negotiated_by_supported_groups(anchors, server_credentials):
    client, _, _, _ = handshake(
        anchors,
        server_credentials,
        client={
            "groups": [NamedGroup.X25519, NamedGroup.FFDHE3072],
            "cipher_suites": [CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256],
        },
    )
    ske = client.transcript.find("ServerKeyExchange").decoded
    assert int.from_bytes(ske.params.dh_p, "big") == keyexchange.FFDHE3072.p


# -------------------------------------------------------------------------- mutual TLS


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_mutual_tls(anchors, server_credentials, rsa_pki, ec_pki, key_type):
    pki = rsa_pki if key_type == "rsa" else ec_pki
    client_credential = Credential((pki.client, pki.intermediate), pki.client_key)
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        client={"credentials": [client_credential]},
        server={"require_client_certificate": True},
    )
    assert client.handshake_complete and server.handshake_complete
    assert server.peer_certificates[0] == pki.client
    names = [e.name for e in client.transcript.messages() if e.sender == "client"]
    assert names[:5] == [
        "ClientHello",
        "Certificate",
        "ClientKeyExchange",
        "CertificateVerify",
        "ChangeCipherSpec",
    ]
    assert server.verification_report.ok and server.verification_report.purpose == "client"


def test_required_client_certificate_missing_sends_handshake_failure(anchors, server_credentials):
    # OpenSSL 3 with SSL_VERIFY_FAIL_IF_NO_PEER_CERT answers handshake_failure in TLS 1.2.
    client, server = make_pair(anchors, server_credentials, server={"require_client_certificate": True})
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    with pytest.raises(HandshakeFailure, match="did not send a certificate"):
        server.receive_data(client.data_to_send())
    alert_bytes = server.data_to_send()
    assert server.state is State.ERROR
    with pytest.raises(AlertReceived) as info:
        client.receive_data(alert_bytes)
    assert info.value.description == AlertDescription.HANDSHAKE_FAILURE
    assert client.state is State.ERROR


def test_requested_but_optional_client_certificate(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials, server={"request_client_certificate": True})
    assert server.handshake_complete and server.peer_certificates == ()
    certificate = client.transcript.find("Certificate", sender="client")
    assert certificate.decoded.certificate_list == ()


def test_client_certificate_from_unknown_ca_is_refused(rsa_pki, server_credentials, anchors):
    stranger = DemoPKI("rsa")
    stranger.root = stranger.make_root("a stranger root", key_role="other-root")
    stranger.intermediate = stranger.make_intermediate(stranger.root, stranger.root_key)
    stranger_client = stranger.issue_client()
    credential = Credential((stranger_client, stranger.intermediate), stranger.client_key)
    client, server = make_pair(
        anchors,
        server_credentials,
        client={"credentials": [credential]},
        server={"require_client_certificate": True},
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    with pytest.raises(BadCertificate) as info:
        server.receive_data(client.data_to_send())
    assert info.value.alert in (AlertDescription.UNKNOWN_CA, AlertDescription.BAD_CERTIFICATE)
    assert alerts_in(server.data_to_send())[0].description == info.value.alert


# -------------------------------------------------------------------------- certificate checks


def _client_error(anchors, credentials, **client_fields):
    client, server = make_pair(anchors, credentials, client=client_fields)
    client.start_handshake()
    server.receive_data(client.data_to_send())
    with pytest.raises(ProtocolError) as info:
        client.receive_data(server.data_to_send())
    sent = alerts_in(client.data_to_send())
    assert [a.description for a in sent] == [info.value.alert]
    # the server learns why
    with pytest.raises(AlertReceived) as received:
        server.receive_data(Record(ContentType.ALERT, 0x0303, bytes([2, info.value.alert])).encode())
    assert received.value.description == info.value.alert
    return info.value


def test_wrong_server_name_is_bad_certificate(anchors, server_credentials):
    error = _client_error(anchors, server_credentials, server_name="www.example.com")
    assert error.alert == AlertDescription.BAD_CERTIFICATE
    assert "www.example.com" in str(error) and "name" in str(error)


def test_unknown_ca(server_credentials):
    other = DemoPKI("rsa").make_root("another root", key_role="other-root")
    error = _client_error([other], server_credentials)
    assert error.alert == AlertDescription.UNKNOWN_CA


def test_expired_certificate(anchors, server_credentials):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    error = _client_error(anchors, server_credentials, verify_time=later)
    assert error.alert == AlertDescription.CERTIFICATE_EXPIRED


def test_ip_address_checked_and_no_sni(anchors, server_credentials):
    client, _, _, _ = handshake(anchors, server_credentials, client={"server_name": "127.0.0.1"})
    assert client.handshake_complete
    hello = client.transcript.find("ClientHello").decoded
    assert hello.extension(ExtensionType.SERVER_NAME) is None  # RFC 6066 §3
    assert client.verification_report.ip_address is not None
    error = _client_error(anchors, server_credentials, server_name="10.1.2.3")
    assert error.alert == AlertDescription.BAD_CERTIFICATE


def test_sni_sent_for_host_names(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    assert client.transcript.find("ClientHello").decoded.server_name == "localhost"
    assert server.server_name == "localhost"


def test_verification_can_be_turned_off(server_credentials):
    client, _, _, _ = handshake(
        [], server_credentials, client={"verify": False, "server_name": "nowhere.test"}
    )
    assert client.handshake_complete and client.verification_report is None


# -------------------------------------------------------------------------- protocol errors


def _server_hello_record(**fields) -> bytes:
    hello = ServerHello(random=bytes(32), **fields)
    return Record(ContentType.HANDSHAKE, 0x0303, encode_handshake(hello)).encode()


def test_suite_not_offered_is_illegal_parameter():
    client = ClientConnection(TLSConfig(cipher_suites=["ECDHE-RSA-AES128-GCM-SHA256"], verify=False))
    client.start_handshake()
    client.data_to_send()
    with pytest.raises(IllegalParameter):
        client.receive_data(
            _server_hello_record(
                cipher_suite=CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
                extensions=[(ExtensionType.RENEGOTIATION_INFO, b"\x00")],
            )
        )
    assert alerts_in(client.data_to_send())[0].description == AlertDescription.ILLEGAL_PARAMETER


@pytest.mark.parametrize("strict", [True, False])
def test_missing_renegotiation_info(strict):
    client = ClientConnection(TLSConfig(verify=False, require_secure_renegotiation=strict))
    client.start_handshake()
    client.data_to_send()
    record = _server_hello_record(
        cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, extensions=[]
    )
    if strict:
        with pytest.raises(HandshakeFailure, match="renegotiation_info"):
            client.receive_data(record)
        assert alerts_in(client.data_to_send())[0].description == AlertDescription.HANDSHAKE_FAILURE
    else:
        client.receive_data(record)
        assert client.state is State.WAIT_CERTIFICATE


def test_unsolicited_extension_is_unsupported_extension():
    client = ClientConnection(TLSConfig(verify=False, extended_master_secret=False))
    client.start_handshake()
    client.data_to_send()
    with pytest.raises(RemoteProtocolError) as info:
        client.receive_data(
            _server_hello_record(
                cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                extensions=[
                    (ExtensionType.RENEGOTIATION_INFO, b"\x00"),
                    (ExtensionType.EXTENDED_MASTER_SECRET, b""),
                ],
            )
        )
    assert info.value.alert == AlertDescription.UNSUPPORTED_EXTENSION


def test_out_of_order_message_is_unexpected_message(server_credentials):
    server = ServerConnection(TLSConfig(credentials=server_credentials))
    finished = Record(ContentType.HANDSHAKE, 0x0303, bytes([HandshakeType.FINISHED, 0, 0, 12]) + bytes(12))
    with pytest.raises(UnexpectedMessage, match="Finished"):
        server.receive_data(finished.encode())
    assert alerts_in(server.data_to_send())[0].description == AlertDescription.UNEXPECTED_MESSAGE
    assert server.state is State.ERROR
    with pytest.raises(LocalProtocolError):
        server.receive_data(b"\x16\x03\x03")


def test_application_data_before_handshake_is_unexpected(anchors, server_credentials):
    client, server = make_pair(anchors, server_credentials)
    client.start_handshake()
    server.receive_data(client.data_to_send())
    with pytest.raises(UnexpectedMessage):
        client.receive_data(
            server.data_to_send() + Record(ContentType.APPLICATION_DATA, 0x0303, b"hi").encode()
        )
    assert client.state is State.ERROR


def test_client_hello_to_client_is_unexpected():
    client = ClientConnection(TLSConfig(verify=False))
    client.start_handshake()
    hello = ClientHello(random=bytes(32), cipher_suites=[CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256])
    with pytest.raises(UnexpectedMessage):
        client.receive_data(Record(ContentType.HANDSHAKE, 0x0303, encode_handshake(hello)).encode())


def test_tampered_finished_record_is_bad_record_mac(anchors, server_credentials):
    client, server = make_pair(anchors, server_credentials)
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    flight = bytearray(client.data_to_send())
    flight[-1] ^= 0x01  # last byte of the encrypted Finished record (its tag)
    with pytest.raises(BadRecordMac):
        server.receive_data(bytes(flight))
    # the server has not switched its write keys yet: its alert goes out in plaintext
    assert alerts_in(server.data_to_send())[0].description == AlertDescription.BAD_RECORD_MAC


def test_wrong_verify_data_is_decrypt_error(anchors, server_credentials):
    # A PRF that differs only for "client finished" makes a valid record with a wrong Finished.
    def prf(secret, label, seed, length, hash_name):
        value = keyschedule.prf(secret, label, seed, length, hash_name)
        return bytes(length) if label == b"client finished" else value

    client, server = make_pair(anchors, server_credentials, client={"primitives": Primitives(prf=prf)})
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    with pytest.raises(DecryptError, match="Finished"):
        server.receive_data(client.data_to_send())


def test_byte_by_byte_delivery(anchors, server_credentials):
    client, server = make_pair(anchors, server_credentials)
    client.start_handshake()
    for _ in range(10):
        data = client.data_to_send()
        for i in range(len(data)):
            server.receive_data(data[i : i + 1])
        reply = server.data_to_send()
        for i in range(len(reply)):
            client.receive_data(reply[i : i + 1])
        if not data and not reply:
            break
    assert client.handshake_complete and server.handshake_complete


def test_end_of_stream_during_handshake(anchors, server_credentials):
    client, _ = make_pair(anchors, server_credentials)
    client.start_handshake()
    with pytest.raises(RemoteProtocolError, match="closed the connection"):
        client.receive_data(b"")


def test_end_of_stream_after_handshake_is_unclean_close(anchors, server_credentials):
    client, _, _, _ = handshake(anchors, server_credentials)
    assert client.receive_data(b"") == [ConnectionClosed(by_peer=True, clean=False)]


def test_hello_request_answered_with_no_renegotiation(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    # a HelloRequest from the server, sent with the server's record keys
    server._write_record(ContentType.HANDSHAKE, encode_handshake(HelloRequest()))
    client.receive_data(server.data_to_send())
    assert client.state is State.CONNECTED
    events = server.receive_data(client.data_to_send())
    assert events == [WarningAlertReceived(AlertDescription.NO_RENEGOTIATION)]


def test_renegotiating_client_hello_is_refused(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    hello = ClientHello(random=bytes(32), cipher_suites=[CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256])
    client._write_record(ContentType.HANDSHAKE, encode_handshake(hello))
    server.receive_data(client.data_to_send())
    assert server.state is State.CONNECTED
    assert client.receive_data(server.data_to_send()) == [
        WarningAlertReceived(AlertDescription.NO_RENEGOTIATION)
    ]


def test_no_application_data_after_failure(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    client.send_data(b"secret")
    data = bytearray(client.data_to_send())
    data[-1] ^= 1
    with pytest.raises(BadRecordMac):
        server.receive_data(bytes(data))
    with pytest.raises(LocalProtocolError):
        server.send_data(b"more")
    with pytest.raises(LocalProtocolError):
        server.receive_data(b"anything")


def test_send_before_handshake_is_local_error():
    client = ClientConnection(TLSConfig(verify=False))
    with pytest.raises(LocalProtocolError):
        client.send_data(b"early")


# -------------------------------------------------------------------------- close and wipe


def test_close_wipes_keys_and_keeps_teaching_copy(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    master = client.transcript.secrets.master_secret
    assert master is not None and client._master_secret == master
    write = client._write_protection
    client.close()
    assert client._master_secret is None and client._key_block is None
    assert write.wiped
    assert client.transcript.secrets.master_secret == master  # keep_secrets=True (default)
    pump(client, server)
    assert server._master_secret is None and server.state is State.CLOSED
    assert client.receive_data(b"late") == []


def test_keep_secrets_false(anchors, server_credentials):
    client, _, _, _ = handshake(anchors, server_credentials, client={"keep_secrets": False})
    assert client.handshake_complete
    assert client.transcript.secrets.master_secret is None
    assert client.transcript.secrets.premaster_secret is None
    assert client.transcript.secrets.client_random is not None


def test_peer_close_notify_is_answered(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    server.close()
    events = client.receive_data(server.data_to_send())
    assert events == [ConnectionClosed(by_peer=True, clean=True)]
    assert [e.name for e in client.transcript.messages()][-1] == "Alert close_notify"
    assert client.transcript.messages()[-1].sender == "client"


# -------------------------------------------------------------------------- transcript


@pytest.mark.parametrize(
    "suite", ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "AES128-SHA256"]
)
def test_transcript_keeps_application_data_up_to_its_limit(anchors, server_credentials, suite):
    limit = 40_000  # two full records of 16384 bytes fit, the third does not
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": [suite], "transcript_application_data_limit": limit},
        server={"transcript_application_data_limit": limit},
    )
    payload = os.urandom(100_000)  # 6 full records and one of 1696 bytes
    client.send_data(payload)
    wire = client.data_to_send()
    records, rest = split_records(wire)
    assert rest == b"" and len(records) == 7
    received = b"".join(e.data for e in server.receive_data(wire) if isinstance(e, ApplicationData))
    assert received == payload
    for transcript in (client.transcript, server.transcript):
        kept = [e for e in transcript.messages() if e.kind == "application_data"]
        assert [e.raw for e in kept] == [payload[:16384], payload[16384:32768]]
        assert transcript.elided["client"] == [5, 100_000 - 32768]
        data_records = [r for r in transcript.records() if r.encrypted and r.sender == "client"][-2:]
        # the kept records are exactly the first two on the wire, ciphertext and all
        assert [r.raw for r in data_records] == [records[0].encode(), records[1].encode()]
        assert all(
            r.raw.endswith(r.ciphertext) and r.decoded == records[i] for i, r in enumerate(data_records)
        )
        assert "5 more client application-data records, 67232 bytes, not kept" in transcript.summary()
    # without a limit every record is kept; an empty send is one empty record
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": [suite], "transcript_application_data_limit": None},
    )
    client.send_data(payload)
    client.send_data(b"")
    wire = client.data_to_send()
    assert len(split_records(wire)[0]) == 8
    events = server.receive_data(wire)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == payload
    kept = [e.raw for e in client.transcript.messages() if e.kind == "application_data"]
    assert b"".join(kept) == payload and len(kept) == 8 and kept[-1] == b""
    assert client.transcript.elided == {"client": [0, 0], "server": [0, 0]}
    with pytest.raises(LocalProtocolError):
        TLSConfig(transcript_application_data_limit=-1)


def test_transcript_ladder_and_keylog(anchors, server_credentials):
    client, server, _, _ = handshake(
        anchors, server_credentials, client={"cipher_suites": ["ECDHE-RSA-AES128-SHA256"]}
    )
    client.send_data(b"ping")
    pump(client, server)
    names = [(e.sender, e.name) for e in client.transcript.messages()]
    assert names == [
        ("client", "ClientHello"),
        ("server", "ServerHello"),
        ("server", "Certificate"),
        ("server", "ServerKeyExchange"),
        ("server", "ServerHelloDone"),
        ("client", "ClientKeyExchange"),
        ("client", "ChangeCipherSpec"),
        ("client", "Finished"),
        ("server", "ChangeCipherSpec"),
        ("server", "Finished"),
        ("client", "application data"),
    ]
    # the raw bytes of the handshake messages are what the Finished hash covers
    for entry in client.transcript.handshake_messages():
        assert encode_handshake(entry.decoded) == entry.raw
        assert decode_handshake(entry.raw, key_exchange="ECDHE") == entry.decoded
    # encrypted records hold both sides: the ciphertext on the wire and the plaintext
    encrypted = [r for r in client.transcript.records() if r.encrypted]
    assert encrypted and all(r.ciphertext != r.plaintext and r.raw.endswith(r.ciphertext) for r in encrypted)
    data_record = encrypted[-1]
    assert data_record.plaintext == b"ping"
    # decrypt the recorded ciphertext independently with the key block in the transcript
    block = client.transcript.secrets.key_block
    protection = RecordProtection(
        suite_info(client.cipher_suite),
        block.client_write_key,
        block.client_write_iv,
        block.client_write_mac_key,
        encrypt_then_mac=True,
        sequence_number=1,
    )
    assert protection.open(ContentType.APPLICATION_DATA, 0x0303, data_record.ciphertext) == b"ping"
    log = KeyLog.parse(client.transcript.keylog())
    assert log.master_secret_for(client.client_random) == server.transcript.secrets.master_secret
    summary = client.transcript.summary()
    assert "ServerKeyExchange" in summary and "--->" in summary and "<---" in summary


def test_seeded_random_is_reproducible(anchors, server_credentials):
    def source(seed):
        generator = random.Random(seed)
        return lambda n: generator.randbytes(n)

    hellos = []
    for _ in range(2):
        client = ClientConnection(TLSConfig(verify=False, random=source(7)))
        client.start_handshake()
        hellos.append(client.data_to_send())
    assert hellos[0] == hellos[1]
    client = ClientConnection(TLSConfig(verify=False, random=source(8)))
    client.start_handshake()
    assert client.data_to_send() != hellos[0]


# -------------------------------------------------------------------------- replaceable primitives


def test_learner_prf_rsa_and_aead_complete_a_handshake(anchors, server_credentials):
    calls: list[bytes] = []

    def learner_prf(secret, label, seed, length, hash_name):
        calls.append(label)
        return keyschedule.p_hash(secret, label + seed, length, hash_name)

    def learner_rsa(public_key, premaster):
        block = keyexchange.pkcs1_v15_pad(premaster, (public_key.key_size + 7) // 8)
        return keyexchange.rsa_textbook_encrypt(public_key, block)

    def learner_seal(key, nonce, plaintext, aad):
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    primitives = Primitives(prf=learner_prf, rsa_encrypt_premaster=learner_rsa, aead_seal=learner_seal)
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        client={"primitives": primitives, "cipher_suites": ["AES128-GCM-SHA256"]},
    )
    assert client.handshake_complete and server.handshake_complete
    assert b"extended master secret" in calls and b"key expansion" in calls
    assert b"client finished" in calls and b"server finished" in calls


def test_learner_ecdh_and_record_functions(anchors, server_credentials):
    used = {"ecdh": 0, "seal": 0, "open": 0}

    def learner_ecdh(group, private_key, peer_point):
        used["ecdh"] += 1
        return keyexchange.ecdhe_shared_secret(group, private_key, peer_point)

    def record_seal(keys, sequence_number, content_type, version, plaintext):
        used["seal"] += 1
        protection = RecordProtection(
            keys.suite,
            keys.key,
            keys.iv,
            keys.mac_key,
            encrypt_then_mac=keys.encrypt_then_mac,
            sequence_number=sequence_number,
        )
        return protection.seal(content_type, version, plaintext)

    def record_open(keys, sequence_number, content_type, version, fragment):
        used["open"] += 1
        protection = RecordProtection(
            keys.suite,
            keys.key,
            keys.iv,
            keys.mac_key,
            encrypt_then_mac=keys.encrypt_then_mac,
            sequence_number=sequence_number,
        )
        return protection.open(content_type, version, fragment)

    primitives = Primitives(ecdh_shared_secret=learner_ecdh, record_seal=record_seal, record_open=record_open)
    client, server, _, _ = handshake(
        anchors,
        server_credentials,
        client={"primitives": primitives, "cipher_suites": ["ECDHE-RSA-AES128-SHA256"]},
    )
    client.send_data(b"one")
    client.send_data(b"two")
    _, events = pump(client, server)
    assert events == [ApplicationData(b"one"), ApplicationData(b"two")]
    server.send_data(b"three")
    client_events, _ = pump(client, server)
    assert client_events == [ApplicationData(b"three")]
    assert used == {"ecdh": 1, "seal": 3, "open": 2}


def test_wrong_learner_dh_fails_the_handshake(anchors, server_credentials):
    def wrong_dh(group, private, peer_public):
        return keyexchange.int_to_bytes(pow(peer_public, private + 1, group.p))

    client, server = make_pair(
        anchors,
        server_credentials,
        client={
            "primitives": Primitives(dh_shared_secret=wrong_dh),
            "cipher_suites": ["DHE-RSA-AES128-GCM-SHA256"],
        },
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    with pytest.raises(BadRecordMac):
        server.receive_data(client.data_to_send())


def test_a_primitive_raising_valueerror_becomes_internal_error(anchors, server_credentials):
    def broken(*args):
        raise ValueError("learner bug")

    client, server = make_pair(
        anchors,
        server_credentials,
        client={
            "primitives": Primitives(ecdh_shared_secret=broken),
            "cipher_suites": ["ECDHE-RSA-AES128-GCM-SHA256"],
        },
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    with pytest.raises(ProtocolError) as info:
        client.receive_data(server.data_to_send())
    assert info.value.alert == AlertDescription.INTERNAL_ERROR and "learner bug" in str(info.value)


# -------------------------------------------------------------------------- state table


def test_every_table_entry_has_a_handler():
    for table, cls in ((CLIENT_TRANSITIONS, ClientConnection), (SERVER_TRANSITIONS, ServerConnection)):
        for state, kind in table:
            if isinstance(kind, HandshakeType) and state is not State.CONNECTED:
                assert hasattr(cls, f"_on_{kind.name.lower()}"), (cls, kind)


def test_table_refuses_anything_else():
    with pytest.raises(UnexpectedMessage, match="expected: ServerHello"):
        next_states("client", State.WAIT_HELLO, HandshakeType.CERTIFICATE)
    with pytest.raises(UnexpectedMessage):
        next_states("server", State.CONNECTED, HandshakeType.FINISHED)
    assert next_states("client", State.WAIT_CERTIFICATE, HandshakeType.CERTIFICATE) == {
        State.WAIT_KEY_EXCHANGE,
        State.WAIT_CERTIFICATE_REQUEST,
    }


def test_config_accepts_both_name_styles():
    config = TLSConfig(cipher_suites=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"])
    assert config.cipher_suites == (
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    )
    with pytest.raises(LocalProtocolError):
        TLSConfig(cipher_suites=["NOT-A-SUITE"])
    with pytest.raises(LocalProtocolError):
        ServerConnection(TLSConfig())


@pytest.mark.parametrize(
    "fields",
    [{"cipher_suites": [0x1234]}, {"groups": [7]}, {"signature_schemes": [0x0807]}, {"cipher_suites": []}],
)
def test_config_refuses_what_httpslab_does_not_implement(fields):
    with pytest.raises(LocalProtocolError):
        TLSConfig(**fields)


def test_diagram_edges_come_from_the_table():
    from httpslab.connection.tables import diagram_edges

    edges = diagram_edges("server")
    assert len(edges) == sum(len(targets) for targets in SERVER_TRANSITIONS.values())
    assert (State.WAIT_KEY_EXCHANGE, "ClientKeyExchange", State.WAIT_CERTIFICATE_VERIFY) in edges


@pytest.mark.parametrize(
    ("connection_class", "table"),
    [(ClientConnection, CLIENT_TRANSITIONS), (ServerConnection, SERVER_TRANSITIONS)],
    ids=["client", "server"],
)
def test_every_handshake_message_in_the_table_has_a_handler(connection_class, table):
    # once connected, a HelloRequest or ClientHello is refused (no_renegotiation) before any handler
    expected = {
        kind for (state, kind) in table if isinstance(kind, HandshakeType) and state is not State.CONNECTED
    }
    assert set(connection_class.HANDLERS) == expected


# -------------------------------------------------------------------------- undecodable certificate keys


def _break_ec_point(data: bytes, certificate) -> bytes:
    """``data`` with the EC point of ``certificate``'s key moved off the curve (same length)."""
    from cryptography.hazmat.primitives import serialization

    point = certificate.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert data.count(point) == 1
    return data.replace(point, point[:-1] + bytes([point[-1] ^ 1]))


def test_server_certificate_key_that_does_not_decode_is_bad_certificate(anchors, server_credentials, ec_pki):
    # The DER still parses (cryptography decodes the key lazily); the key itself is not on the
    # curve. That is the peer's bad certificate, not an internal_error of ours.
    client, server = make_pair(
        anchors, server_credentials, client={"cipher_suites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]}
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    flight = _break_ec_point(server.data_to_send(), ec_pki.server)
    with pytest.raises(RemoteProtocolError) as info:
        client.receive_data(flight)
    assert info.value.alert == AlertDescription.BAD_CERTIFICATE
    assert [a.description for a in alerts_in(client.data_to_send())] == [AlertDescription.BAD_CERTIFICATE]


def test_client_certificate_key_that_does_not_decode_is_bad_certificate(anchors, server_credentials, ec_pki):
    credential = Credential((ec_pki.client, ec_pki.intermediate), ec_pki.client_key)
    client, server = make_pair(
        anchors,
        server_credentials,
        client={"credentials": [credential]},
        server={"require_client_certificate": True},
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    flight = _break_ec_point(client.data_to_send(), ec_pki.client)
    with pytest.raises(RemoteProtocolError) as info:
        server.receive_data(flight)
    assert info.value.alert == AlertDescription.BAD_CERTIFICATE
    assert [a.description for a in alerts_in(server.data_to_send())] == [AlertDescription.BAD_CERTIFICATE]


# -------------------------------------------------------------------------- hardening: record version
# RFC 5246 §6.2.1 / Appendix E.1: the records of the first hello may carry any 0x03xx; after
# the hellos every record carries the negotiated version. OpenSSL 3.0 ssl3_get_record answers a
# mismatch with protocol_version (SSL_R_WRONG_VERSION_NUMBER), sent back in a record with the
# peer's version while its own write side is plaintext, and sends nothing when the record with
# the wrong version is itself an alert.


def _with_version(data: bytes, index: int, version: int) -> bytes:
    """``data`` (whole records) with record number ``index`` re-sent with ``version``."""
    records, rest = split_records(data)
    assert not rest
    records[index] = Record(records[index].content_type, version, records[index].fragment)
    return b"".join(record.encode() for record in records)


def _records_of(data: bytes) -> list[Record]:
    records, rest = split_records(data)
    assert not rest
    return records


def _server_flight(anchors, credentials, **kwargs):
    client, server = make_pair(anchors, credentials, **kwargs)
    client.start_handshake()
    server.receive_data(client.data_to_send())
    return client, server, server.data_to_send()


def test_hello_records_may_carry_any_tls_version(anchors, server_credentials):
    client, server = make_pair(anchors, server_credentials)
    client.start_handshake()
    server.receive_data(_with_version(client.data_to_send(), 0, 0x0301))
    flight = server.data_to_send()
    assert _records_of(flight)[0].content_type == ContentType.HANDSHAKE
    client.receive_data(_with_version(flight, 0, 0x0300))  # the ServerHello record
    client_events, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)


def test_client_refuses_a_wrong_record_version_after_the_server_hello(anchors, server_credentials):
    client, _, flight = _server_flight(anchors, server_credentials)
    with pytest.raises(RemoteProtocolError, match="record version") as raised:
        client.receive_data(_with_version(flight, 1, 0x0301))  # the Certificate record
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    (alert_record,) = _records_of(client.data_to_send())
    assert alert_record.content_type == ContentType.ALERT
    # OpenSSL answers "using their minor version number" while its write side is plaintext
    assert alert_record.version == 0x0301
    assert decode_alert(alert_record.fragment) == Alert(2, AlertDescription.PROTOCOL_VERSION)
    assert client.state is State.ERROR


def test_server_refuses_a_wrong_record_version_after_the_client_hello(anchors, server_credentials):
    client, server, flight = _server_flight(anchors, server_credentials)
    client.receive_data(flight)
    second_flight = client.data_to_send()  # ClientKeyExchange, ChangeCipherSpec, Finished
    with pytest.raises(RemoteProtocolError) as raised:
        server.receive_data(_with_version(second_flight, 0, 0x0302))
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    (alert_record,) = _records_of(server.data_to_send())
    assert alert_record.version == 0x0302
    assert decode_alert(alert_record.fragment).description == AlertDescription.PROTOCOL_VERSION


def test_a_wrong_version_alert_record_is_answered_with_nothing(anchors, server_credentials):
    client, _, flight = _server_flight(anchors, server_credentials)
    hello_only = b"".join(r.encode() for r in _records_of(flight)[:1])
    client.receive_data(hello_only)
    warning = Record(ContentType.ALERT, 0x0301, bytes([1, AlertDescription.USER_CANCELED])).encode()
    with pytest.raises(RemoteProtocolError) as raised:
        client.receive_data(warning)
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    assert client.data_to_send() == b""  # OpenSSL: SSL_AD_NO_ALERT for an alert record
    assert client.state is State.ERROR


def test_a_wrong_version_on_a_protected_record_is_protocol_version(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    server.send_data(b"hello")
    data = _with_version(server.data_to_send(), 0, 0x0301)
    with pytest.raises(RemoteProtocolError) as raised:
        client.receive_data(data)  # checked before decryption, as OpenSSL does: not bad_record_mac
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    (alert_record,) = _records_of(client.data_to_send())
    assert alert_record.version == 0x0303  # the write side is protected: the negotiated version
    with pytest.raises(AlertReceived) as received:
        server.receive_data(alert_record.encode())
    assert received.value.description == AlertDescription.PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("wrong_record", "echoed"),
    [
        (bytes([0x63, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00]), 0x0301),  # unknown type
        (bytes([ContentType.HANDSHAKE, 0x03, 0x01, 0x48, 0x01]), 0x0301),  # 18433 bytes, header only
        (bytes([0x63, 0x04, 0x01, 0x00, 0x02, 0x01, 0x00]), 0x0303),  # major byte 4: not echoed
    ],
    ids=["unknown-type", "too-long", "major-byte-4"],
)
@pytest.mark.parametrize("side", ["client", "server"])
def test_after_the_hellos_the_record_version_is_checked_first(
    anchors, server_credentials, wrong_record, echoed, side
):
    # OpenSSL 3.0 ssl3_get_record checks the version before the type and the length:
    # protocol_version, not unexpected_message or record_overflow (tests/interop/test_handshake_failures.py
    # shows OpenSSL's client send the same alert record)
    client, server, flight = _server_flight(anchors, server_credentials)
    if side == "client":
        receiver = client
        client.receive_data(_records_of(flight)[0].encode())  # the ServerHello
    else:
        receiver = server  # it read the ClientHello
    with pytest.raises(RemoteProtocolError, match="record version") as raised:
        receiver.receive_data(wrong_record)
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    (alert_record,) = _records_of(receiver.data_to_send())
    assert alert_record == Record(ContentType.ALERT, echoed, bytes([2, AlertDescription.PROTOCOL_VERSION]))


def test_a_wrong_record_version_before_the_hello_is_not_checked_first(server_credentials):
    # the first record may carry any 0x03xx (RFC 5246 Appendix E.1): its other checks apply
    server = ServerConnection(TLSConfig(credentials=server_credentials))
    with pytest.raises(UnexpectedMessage):
        server.receive_data(bytes([0x63, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00]))


# The first record that does not look like TLS: OpenSSL 3.0's ssl3_get_record checks the major
# byte of the first record's version before its content type and sends no alert when it is not
# 3 ("Doesn't look like TLS - don't send an alert"; SSL_R_HTTP_REQUEST for GET/POST/HEAD/PUT).
NOT_TLS = {
    "http-request": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "major-byte-4": bytes([ContentType.HANDSHAKE, 0x04, 0x01, 0x00, 0x02, 0x01, 0x00]),
}


@pytest.mark.parametrize("first", list(NOT_TLS))
def test_a_first_record_that_is_not_tls_gets_no_alert_from_the_server_as_from_openssl(
    rsa_files, server_credentials, first
):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    openssl_server = _openssl_context("server", rsa_files).wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(NOT_TLS[first])
    assert _openssl_step(openssl_server)  # it failed
    server = ServerConnection(TLSConfig(credentials=server_credentials))
    with pytest.raises(NotTLSError) as raised:
        server.receive_data(NOT_TLS[first])
    assert server.data_to_send() == outgoing.read() == b""
    assert server.state is State.ERROR
    if first == "http-request":
        assert "this looks like plain HTTP sent to a TLS port" in str(raised.value)


def test_a_plain_http_answer_to_the_client_hello_gets_no_alert_as_from_openssl(anchors, server_credentials):
    def mutate(flight: bytes) -> bytes:
        return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"

    theirs = _openssl_client_reads(server_credentials, mutate)
    ours = _httpslab_client_reads(anchors, server_credentials, mutate)
    assert ours == theirs == ("fails", [])
    client, _, _ = _server_flight(anchors, server_credentials)
    with pytest.raises(NotTLSError, match="plain HTTP response"):
        client.receive_data(mutate(b""))
    assert client.data_to_send() == b""


# -------------------------------------------------------------------------- hardening: HelloRequest
# RFC 5246 §7.4.1.1: "This message will be ignored by the client if the client is currently
# negotiating a session", and it is not part of the handshake hash. OpenSSL 3.0
# (tls_get_message_header, ssl/statem/statem_lib.c) skips an empty HelloRequest while the
# client is not in TLS_ST_OK; one with a body is unexpected_message then, decode_error after.


def _hello_request_record(body: bytes = b"") -> bytes:
    return Record(
        ContentType.HANDSHAKE,
        0x0303,
        bytes([HandshakeType.HELLO_REQUEST]) + len(body).to_bytes(3, "big") + body,
    ).encode()


def test_hello_request_during_the_handshake_is_ignored_and_not_hashed(anchors, server_credentials):
    client, server, flight = _server_flight(anchors, server_credentials)
    records = [r.encode() for r in _records_of(flight)]
    # one before the ServerHello, one between two server messages, one after ServerHelloDone
    spliced = _hello_request_record() + records[0] + _hello_request_record() + b"".join(records[1:])
    assert client.receive_data(spliced + _hello_request_record()) == []
    assert client.state is State.WAIT_CHANGE_CIPHER_SPEC
    client_events, server_events = pump(client, server)
    # both Finished messages verified: the ignored HelloRequests are in neither handshake hash
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)
    ignored = [e for e in client.transcript.handshake_messages() if e.name == "HelloRequest"]
    assert len(ignored) == 3 and all("ignored" in e.note for e in ignored)
    assert not any(e.kind == "alert" for e in client.transcript.messages())


def test_hello_request_with_a_body_during_the_handshake_is_unexpected(anchors, server_credentials):
    client, _, _ = _server_flight(anchors, server_credentials)
    with pytest.raises(UnexpectedMessage):
        client.receive_data(_hello_request_record(b"\x00"))
    assert alerts_in(client.data_to_send())[0].description == AlertDescription.UNEXPECTED_MESSAGE


def test_hello_request_to_a_server_is_unexpected(server_credentials):
    server = ServerConnection(TLSConfig(credentials=server_credentials))
    with pytest.raises(UnexpectedMessage):
        server.receive_data(_hello_request_record())


def test_hello_request_with_a_body_after_the_handshake_is_decode_error(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    server._write_record(ContentType.HANDSHAKE, bytes([HandshakeType.HELLO_REQUEST, 0, 0, 1, 0]))
    with pytest.raises(RemoteProtocolError) as raised:
        client.receive_data(server.data_to_send())
    assert raised.value.alert == AlertDescription.DECODE_ERROR


# -------------------------------------------------------------------------- hardening: floods
# OpenSSL 3.0: more than MAX_EMPTY_RECORDS (32) consecutive empty records -> unexpected_message
# (SSL_R_RECORD_TOO_SMALL, ssl/record/ssl3_record.c; any non-empty record resets the count);
# the MAX_WARN_ALERT_COUNT-th (5th) consecutive warning alert -> unexpected_message
# (SSL_R_TOO_MANY_WARN_ALERTS, ssl/record/rec_layer_s3.c; a non-empty record that is not an
# alert resets the count, an empty one does not; close_notify is counted too).

USER_CANCELED_WARNING = bytes([1, AlertDescription.USER_CANCELED])


def _protected(server: ServerConnection, *records: tuple[ContentType, bytes]) -> bytes:
    for content_type, plaintext in records:
        server._write_record(content_type, plaintext)
    return server.data_to_send()


def _empty_records(server: ServerConnection, count: int) -> bytes:
    return _protected(server, *[(ContentType.APPLICATION_DATA, b"")] * count)


def test_thirty_two_empty_records_are_accepted(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    events = []
    for _ in range(32):  # one receive_data call each: the count spans calls
        events += client.receive_data(_empty_records(server, 1))
    events += client.receive_data(_protected(server, (ContentType.APPLICATION_DATA, b"x")))
    events += client.receive_data(_empty_records(server, 32))  # the data record reset the count
    assert events == [ApplicationData(b"x")]
    assert client.state is State.CONNECTED


def test_the_thirty_third_empty_record_is_unexpected_message(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    client.receive_data(_empty_records(server, 32))
    with pytest.raises(UnexpectedMessage, match="empty records"):
        client.receive_data(_empty_records(server, 1))
    with pytest.raises(AlertReceived) as raised:
        server.receive_data(client.data_to_send())
    assert raised.value.description == AlertDescription.UNEXPECTED_MESSAGE


def test_four_warning_alerts_in_a_row_are_accepted(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    warnings = [(ContentType.ALERT, USER_CANCELED_WARNING)] * 4
    events = client.receive_data(
        _protected(server, *warnings, (ContentType.APPLICATION_DATA, b"x"), *warnings)
    )
    assert (
        events
        == [WarningAlertReceived(AlertDescription.USER_CANCELED)] * 4
        + [ApplicationData(b"x")]
        + [WarningAlertReceived(AlertDescription.USER_CANCELED)] * 4
    )
    assert client.state is State.CONNECTED


@pytest.mark.parametrize("fifth", ["user_canceled", "close_notify", "after-an-empty-record"])
def test_the_fifth_warning_alert_in_a_row_is_unexpected_message(anchors, server_credentials, fifth):
    client, server, _, _ = handshake(anchors, server_credentials)
    client.receive_data(_protected(server, *[(ContentType.ALERT, USER_CANCELED_WARNING)] * 4))
    last: list[tuple[ContentType, bytes]] = [(ContentType.ALERT, USER_CANCELED_WARNING)]
    if fifth == "close_notify":
        last = [(ContentType.ALERT, bytes([1, AlertDescription.CLOSE_NOTIFY]))]
    elif fifth == "after-an-empty-record":
        last = [(ContentType.APPLICATION_DATA, b""), *last]  # an empty record does not reset it
    with pytest.raises(UnexpectedMessage, match="warning alerts"):
        client.receive_data(_protected(server, *last))
    with pytest.raises(AlertReceived) as raised:
        server.receive_data(client.data_to_send())
    assert raised.value.description == AlertDescription.UNEXPECTED_MESSAGE


# -------------------------------------------------------------------------- warnings during the handshake
# OpenSSL 3.0 (ssl3_read_bytes) ignores a TLS 1.2 warning alert during the handshake too, except
# no_renegotiation, which it answers with a fatal handshake_failure (SSL_R_NO_RENEGOTIATION).


def _warning_record(description: AlertDescription) -> bytes:
    return Record(ContentType.ALERT, 0x0303, bytes([1, description])).encode()


def test_a_warning_alert_during_the_handshake_is_reported_and_ignored(anchors, server_credentials):
    client, server, flight = _server_flight(anchors, server_credentials)
    records = _records_of(flight)
    # a user_canceled warning between the server's ServerHello record and the rest of its flight
    events = client.receive_data(
        records[0].encode()
        + _warning_record(AlertDescription.USER_CANCELED)
        + b"".join(record.encode() for record in records[1:])
    )
    assert WarningAlertReceived(AlertDescription.USER_CANCELED) in events
    pump(client, server)
    assert client.handshake_complete and server.handshake_complete  # both Finished verified
    assert client.state is State.CONNECTED


def test_a_no_renegotiation_warning_during_the_handshake_is_handshake_failure(anchors, server_credentials):
    client, _, flight = _server_flight(anchors, server_credentials)
    server_hello = _records_of(flight)[0].encode()
    with pytest.raises(HandshakeFailure, match="no_renegotiation"):
        client.receive_data(server_hello + _warning_record(AlertDescription.NO_RENEGOTIATION))
    assert client.state is State.ERROR
    assert alerts_in(client.data_to_send()) == [Alert(2, AlertDescription.HANDSHAKE_FAILURE)]


# -------------------------------------------------------------------------- records between fragments
# RFC 5246 §6.2.1: a handshake message may span records, and records of different content types
# MAY be interleaved. OpenSSL 3.0 in TLS 1.2 takes an alert between two fragments of a handshake
# message as it takes any alert before the peer's ChangeCipherSpec (ssl3_read_bytes refuses the
# mix only in TLS 1.3, SSL_R_MIXED_HANDSHAKE_AND_NON_HANDSHAKE_DATA; between the fragments of a
# Finished see "between ChangeCipherSpec and Finished" below); a ChangeCipherSpec there is unexpected_message
# (SSL_R_BAD_CHANGE_CIPHER_SPEC in the 4-byte header, SSL_R_CCS_RECEIVED_EARLY in the body), and
# so is application data (SSL_R_UNEXPECTED_RECORD). Each case is put to OpenSSL's client (Python
# ssl through memory BIOs) and to httpslab's, with the same records from httpslab's server.

BETWEEN_FRAGMENTS = {
    "user-canceled-warning": bytes([ContentType.ALERT, 3, 3, 0, 2, 1, AlertDescription.USER_CANCELED]),
    "fatal-handshake-failure": bytes([ContentType.ALERT, 3, 3, 0, 2, 2, AlertDescription.HANDSHAKE_FAILURE]),
    "no-renegotiation-warning": bytes([ContentType.ALERT, 3, 3, 0, 2, 1, AlertDescription.NO_RENEGOTIATION]),
    "close-notify": bytes([ContentType.ALERT, 3, 3, 0, 2, 1, AlertDescription.CLOSE_NOTIFY]),
    "change-cipher-spec": bytes([ContentType.CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1]),
    "application-data": bytes([ContentType.APPLICATION_DATA, 3, 3, 0, 2, 0x41, 0x41]),
}


def _split_server_hello(flight: bytes, cut: int, between: bytes) -> bytes:
    """The server's flight with its ServerHello record cut after ``cut`` bytes, ``between`` in the cut."""
    first, *rest = _records_of(flight)
    return (
        Record(ContentType.HANDSHAKE, 0x0303, first.fragment[:cut]).encode()
        + between
        + Record(ContentType.HANDSHAKE, 0x0303, first.fragment[cut:]).encode()
        + b"".join(record.encode() for record in rest)
    )


def _openssl_client_reads(server_credentials, mutate) -> tuple[str, list[bytes]]:
    """OpenSSL's client against httpslab's server whose first flight went through ``mutate``:
    ("continues", []) when it sent its second flight, or ("fails", alerts sent) (alert bodies)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(RSA_SUITE_ONLY[0])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    server = ServerConnection(TLSConfig(credentials=server_credentials, cipher_suites=RSA_SUITE_ONLY))
    server.receive_data(outgoing.read())
    incoming.write(mutate(server.data_to_send()))
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        sent = _records_of(outgoing.read())
        assert ContentType.CHANGE_CIPHER_SPEC in [record.content_type for record in sent]
        return "continues", []
    except ssl.SSLError:
        sent = _records_of(outgoing.read())
        return "fails", [record.fragment for record in sent if record.content_type == ContentType.ALERT]
    raise AssertionError("OpenSSL's client finished a handshake it cannot have finished")


def _httpslab_client_reads(anchors, server_credentials, mutate) -> tuple[str, list[bytes]]:
    client, server = make_pair(
        anchors,
        server_credentials,
        client={"cipher_suites": RSA_SUITE_ONLY},
        server={"cipher_suites": RSA_SUITE_ONLY},
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    try:
        client.receive_data(mutate(server.data_to_send()))
    except TLSError:
        sent = _records_of(client.data_to_send())
        return "fails", [record.fragment for record in sent if record.content_type == ContentType.ALERT]
    assert client.state is State.WAIT_CHANGE_CIPHER_SPEC  # it sent its second flight
    _, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)  # both hashes agree
    return "continues", []


@pytest.mark.parametrize("between", list(BETWEEN_FRAGMENTS))
@pytest.mark.parametrize("cut", [2, 10], ids=["in-the-header", "in-the-body"])
def test_a_record_between_two_fragments_of_a_handshake_message_as_openssl_takes_it(
    anchors, server_credentials, between, cut
):
    def mutate(flight: bytes) -> bytes:
        return _split_server_hello(flight, cut, BETWEEN_FRAGMENTS[between])

    theirs = _openssl_client_reads(server_credentials, mutate)
    ours = _httpslab_client_reads(anchors, server_credentials, mutate)
    expected = {
        "user-canceled-warning": ("continues", []),
        "fatal-handshake-failure": ("fails", []),  # a fatal alert received is not answered
        "no-renegotiation-warning": ("fails", [bytes([2, AlertDescription.HANDSHAKE_FAILURE])]),
        "close-notify": ("fails", []),  # the handshake ends; no close_notify (nor anything) back
        "change-cipher-spec": ("fails", [bytes([2, AlertDescription.UNEXPECTED_MESSAGE])]),
        "application-data": ("fails", [bytes([2, AlertDescription.UNEXPECTED_MESSAGE])]),
    }[between]
    assert ours == theirs == expected


# An empty plaintext record (RFC 5246 §6.2.1: "MUST NOT send zero-length fragments of Handshake,
# Alert, or ChangeCipherSpec"): OpenSSL 3.0 counts an empty handshake record toward
# MAX_EMPTY_RECORDS (ssl3_get_record) and reads on (ssl3_read_bytes: "We must have read empty
# records. Get more data"); an empty alert is unexpected_message (SSL_R_INVALID_ALERT).
EMPTY_HANDSHAKE = bytes([ContentType.HANDSHAKE, 3, 3, 0, 0])
EMPTY_ALERT = bytes([ContentType.ALERT, 3, 3, 0, 0])


def _after_server_hello(extra: bytes):
    def mutate(flight: bytes) -> bytes:
        first, *rest = _records_of(flight)
        return first.encode() + extra + b"".join(record.encode() for record in rest)

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_after_server_hello(EMPTY_HANDSHAKE), ("continues", [])),
        (_after_server_hello(EMPTY_HANDSHAKE * 32), ("continues", [])),
        # the 33rd empty record in a row: SSL_R_RECORD_TOO_SMALL
        (
            _after_server_hello(EMPTY_HANDSHAKE * 33),
            ("fails", [bytes([2, AlertDescription.UNEXPECTED_MESSAGE])]),
        ),
        (lambda flight: _split_server_hello(flight, 2, EMPTY_HANDSHAKE), ("continues", [])),
        (lambda flight: _split_server_hello(flight, 10, EMPTY_HANDSHAKE), ("continues", [])),
        (_after_server_hello(EMPTY_ALERT), ("fails", [bytes([2, AlertDescription.UNEXPECTED_MESSAGE])])),
        (
            lambda flight: _split_server_hello(flight, 10, EMPTY_ALERT),
            ("fails", [bytes([2, AlertDescription.UNEXPECTED_MESSAGE])]),
        ),
    ],
    ids=[
        "empty-handshake",
        "32-empty-handshake",
        "33-empty-handshake",
        "empty-handshake-in-a-header",
        "empty-handshake-in-a-body",
        "empty-alert",
        "empty-alert-in-a-body",
    ],
)
def test_an_empty_record_during_the_handshake_as_openssl_takes_it(
    anchors, server_credentials, mutate, expected
):
    theirs = _openssl_client_reads(server_credentials, mutate)
    ours = _httpslab_client_reads(anchors, server_credentials, mutate)
    assert ours == theirs == expected


# close_notify before the handshake completed: OpenSSL 3.0's ssl3_read_bytes sets
# SSL_RECEIVED_SHUTDOWN and returns 0, the handshake fails and nothing is sent back (a
# close_notify reply comes only from SSL_shutdown); httpslab raises AlertReceived and queues nothing.
CLOSE_NOTIFY = bytes([ContentType.ALERT, 3, 3, 0, 2, 1, AlertDescription.CLOSE_NOTIFY])


@pytest.mark.parametrize(
    "mutate",
    [lambda flight: CLOSE_NOTIFY, lambda flight: CLOSE_NOTIFY + flight, _after_server_hello(CLOSE_NOTIFY)],
    ids=["instead-of-the-servers-flight", "before-the-servers-flight", "after-the-server-hello"],
)
def test_close_notify_from_the_server_during_the_handshake_as_openssl_takes_it(
    anchors, server_credentials, mutate
):
    theirs = _openssl_client_reads(server_credentials, mutate)
    ours = _httpslab_client_reads(anchors, server_credentials, mutate)
    assert ours == theirs == ("fails", [])


def test_close_notify_during_the_handshake_is_an_error_that_says_so(anchors, server_credentials):
    client, _, _ = _server_flight(anchors, server_credentials)
    with pytest.raises(
        AlertReceived, match=r"the server closed the connection \(close_notify\) during the handshake"
    ) as raised:
        client.receive_data(CLOSE_NOTIFY)
    assert raised.value.description == AlertDescription.CLOSE_NOTIFY
    assert client.state is State.ERROR and not client.handshake_complete
    assert client.data_to_send() == b""
    with pytest.raises(LocalProtocolError):
        client.send_data(b"GET / HTTP/1.1\r\n\r\n")


def test_close_notify_from_the_client_during_the_handshake_as_openssl_takes_it(
    anchors, rsa_files, server_credentials
):
    answers = []
    for peer in ("openssl", "httpslab"):
        client = ClientConnection(
            TLSConfig(server_name="localhost", trust_anchors=anchors, cipher_suites=RSA_SUITE_ONLY)
        )
        client.start_handshake()
        if peer == "openssl":
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            server = _openssl_context("server", rsa_files).wrap_bio(incoming, outgoing, server_side=True)
            incoming.write(client.data_to_send())
            assert not _openssl_step(server)
            outgoing.read()  # its first flight
            incoming.write(CLOSE_NOTIFY)  # instead of the client's second flight
            assert _openssl_step(server)
            answers.append(outgoing.read())
        else:
            server = ServerConnection(TLSConfig(credentials=server_credentials, cipher_suites=RSA_SUITE_ONLY))
            server.receive_data(client.data_to_send())
            server.data_to_send()
            with pytest.raises(AlertReceived, match="the client closed the connection"):
                server.receive_data(CLOSE_NOTIFY)
            answers.append(server.data_to_send())
    assert answers == [b"", b""]


def test_an_empty_protected_handshake_record_is_counted_and_ignored(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    events = client.receive_data(_protected(server, *[(ContentType.HANDSHAKE, b"")] * 32))
    assert events == [] and client.state is State.CONNECTED
    with pytest.raises(UnexpectedMessage, match="empty records"):
        client.receive_data(_protected(server, (ContentType.HANDSHAKE, b"")))


def test_an_empty_protected_alert_is_unexpected_message(anchors, server_credentials):
    client, server, _, _ = handshake(anchors, server_credentials)
    with pytest.raises(UnexpectedMessage, match="empty alert"):
        client.receive_data(_protected(server, (ContentType.ALERT, b"")))


def test_a_warning_between_fragments_is_reported(anchors, server_credentials):
    client, _, flight = _server_flight(anchors, server_credentials)
    between = BETWEEN_FRAGMENTS["user-canceled-warning"]
    events = client.receive_data(_split_server_hello(flight, 10, between))
    assert events == [WarningAlertReceived(AlertDescription.USER_CANCELED)]
    server_hello = client.transcript.find("ServerHello", "server")
    assert server_hello.raw == _records_of(flight)[0].fragment[: len(server_hello.raw)]


# -------------------------------------------------------------------------- between ChangeCipherSpec and Finished
# OpenSSL 3.0's ssl3_read_bytes (ssl/record/rec_layer_s3.c) refuses any record that is not a
# handshake record while s->s3.change_cipher_spec is set (the peer's ChangeCipherSpec read, its
# Finished not yet), with unexpected_message (SSL_R_DATA_BETWEEN_CCS_AND_FINISHED), before it
# looks at alerts: a warning, a close_notify, a fatal alert, or one between two fragments of the
# Finished. Each case is put to OpenSSL (Python ssl through memory BIOs) and to httpslab, in
# both roles, with the same records written by httpslab's peer.

BETWEEN_CCS_AND_FINISHED = {
    "user-canceled-warning": (ContentType.ALERT, USER_CANCELED_WARNING, None),
    "close-notify": (ContentType.ALERT, bytes([1, AlertDescription.CLOSE_NOTIFY]), None),
    "fatal-handshake-failure": (ContentType.ALERT, bytes([2, AlertDescription.HANDSHAKE_FAILURE]), None),
    "application-data": (ContentType.APPLICATION_DATA, b"AA", None),
    "warning-inside-the-finished": (ContentType.ALERT, USER_CANCELED_WARNING, 2),
}


def _write_before_finished(sender, case: str) -> None:
    """Make ``sender`` write the case's protected record after its ChangeCipherSpec, before (or
    inside, cut after ``cut`` bytes) its Finished."""
    content_type, plaintext, cut = BETWEEN_CCS_AND_FINISHED[case]
    write_record = sender._write_record
    done = []

    def write(kind, body, **kwargs):
        if kind == ContentType.HANDSHAKE and sender._write_protection is not None and not done:
            done.append(True)
            if cut is not None:
                write_record(kind, body[:cut], **kwargs)
                body = body[cut:]
            write_record(content_type, plaintext)
        return write_record(kind, body, **kwargs)

    sender._write_record = write


def _openssl_context(side: str, rsa_files=None) -> ssl.SSLContext:
    if side == "client":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(rsa_files.server_chain_file, rsa_files.server_key_file)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(RSA_SUITE_ONLY[0])
    return context


def _openssl_step(endpoint) -> bool:
    """One do_handshake; True once it failed (ssl.SSLError other than 'want read')."""
    try:
        endpoint.do_handshake()
    except ssl.SSLWantReadError:
        return False
    except ssl.SSLError:
        return True
    raise AssertionError("OpenSSL finished a handshake it cannot have finished")


def _client_side(anchors, server_credentials, case: str, peer: str) -> AlertDescription | None:
    """httpslab's server writes the case's record before its Finished; the alert the client
    (``peer``: OpenSSL's or httpslab's) answers with, read by the server with its keys."""
    server = ServerConnection(TLSConfig(credentials=server_credentials, cipher_suites=RSA_SUITE_ONLY))
    _write_before_finished(server, case)
    if peer == "openssl":
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = _openssl_context("client").wrap_bio(incoming, outgoing, server_hostname="localhost")
        for _ in range(3):  # ClientHello, then the second flight, then it reads the Finished
            if _openssl_step(client):
                break
            server.receive_data(outgoing.read())
            incoming.write(server.data_to_send())
        else:
            raise AssertionError("OpenSSL's client did not fail")
        answer = outgoing.read()
    else:
        client = ClientConnection(
            TLSConfig(server_name="localhost", trust_anchors=anchors, cipher_suites=RSA_SUITE_ONLY)
        )
        client.start_handshake()
        server.receive_data(client.data_to_send())
        client.receive_data(server.data_to_send())
        server.receive_data(client.data_to_send())  # ClientKeyExchange, ChangeCipherSpec, Finished
        with pytest.raises(TLSError):
            client.receive_data(server.data_to_send())
        assert client.state is State.ERROR
        answer = client.data_to_send()
    assert [record.content_type for record in _records_of(answer)] == [ContentType.ALERT]
    try:
        server.receive_data(answer)
    except AlertReceived as received:
        return received.description
    raise AssertionError("the client's answer was not a fatal alert")


def _server_side(anchors, rsa_files, server_credentials, case: str, peer: str) -> bytes:
    """httpslab's client writes the case's record before its Finished; the bytes the server
    (``peer``: OpenSSL's or httpslab's) answers with (its write side is still plaintext)."""
    client = ClientConnection(
        TLSConfig(server_name="localhost", trust_anchors=anchors, cipher_suites=RSA_SUITE_ONLY)
    )
    _write_before_finished(client, case)
    client.start_handshake()
    if peer == "openssl":
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        server = _openssl_context("server", rsa_files).wrap_bio(incoming, outgoing, server_side=True)
        incoming.write(client.data_to_send())
        assert not _openssl_step(server)
        client.receive_data(outgoing.read())
        incoming.write(client.data_to_send())  # ClientKeyExchange, ChangeCipherSpec, the case, Finished
        assert _openssl_step(server)
        return outgoing.read()
    server = ServerConnection(TLSConfig(credentials=server_credentials, cipher_suites=RSA_SUITE_ONLY))
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    with pytest.raises(TLSError):
        server.receive_data(client.data_to_send())
    assert server.state is State.ERROR
    return server.data_to_send()


@pytest.mark.parametrize("case", list(BETWEEN_CCS_AND_FINISHED))
def test_a_record_between_the_servers_change_cipher_spec_and_finished_as_openssl_takes_it(
    anchors, server_credentials, case
):
    theirs = _client_side(anchors, server_credentials, case, "openssl")
    ours = _client_side(anchors, server_credentials, case, "httpslab")
    assert ours == theirs == AlertDescription.UNEXPECTED_MESSAGE


@pytest.fixture(scope="module")
def rsa_files(rsa_pki: DemoPKI, tmp_path_factory: pytest.TempPathFactory):
    return rsa_pki.write_pem_files(tmp_path_factory.mktemp("rsa-pem"))


@pytest.mark.parametrize("case", list(BETWEEN_CCS_AND_FINISHED))
def test_a_record_between_the_clients_change_cipher_spec_and_finished_as_openssl_takes_it(
    anchors, rsa_files, server_credentials, case
):
    theirs = _server_side(anchors, rsa_files, server_credentials, case, "openssl")
    ours = _server_side(anchors, rsa_files, server_credentials, case, "httpslab")
    assert (
        ours
        == theirs
        == Record(ContentType.ALERT, 0x0303, bytes([2, AlertDescription.UNEXPECTED_MESSAGE])).encode()
    )


def test_a_warning_between_change_cipher_spec_and_finished_is_named_in_the_error(anchors, server_credentials):
    client, server = make_pair(anchors, server_credentials)
    _write_before_finished(server, "user-canceled-warning")
    client.start_handshake()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    with pytest.raises(UnexpectedMessage, match="between its ChangeCipherSpec and its Finished") as raised:
        client.receive_data(server.data_to_send())
    assert "alert" in str(raised.value)
    assert client.state is State.ERROR


# -------------------------------------------------------------------------- hardening: RFC 8422 curves
# RFC 8422 §5.3: the server's ECDSA key "MUST employ a curve supported by the client (named in
# the supported_groups extension)". OpenSSL 3.0 checks it with the ServerKeyExchange signature
# (tls12_check_peer_sigalg, ssl/t1_lib.c: "Check curve matches extensions") and sends
# illegal_parameter (SSL_R_WRONG_CURVE), before verifying the signature.


def test_server_certificate_on_a_curve_the_client_did_not_offer(anchors, server_credentials):
    # httpslab's server no longer offers such a certificate (see the section below), so it is
    # shown a ClientHello that names P-256; the client that offered only X25519 reads the answer
    # (the curve is checked before the ServerKeyExchange signature, over the other randoms).
    client_config = {"cipher_suites": ["ECDHE-ECDSA-AES128-GCM-SHA256"], "groups": [NamedGroup.X25519]}
    client, server = make_pair(anchors, server_credentials, client=client_config)
    other, _ = make_pair(
        anchors,
        server_credentials,
        client={**client_config, "groups": [NamedGroup.X25519, NamedGroup.SECP256R1]},
    )
    client.start_handshake()
    other.start_handshake()
    server.receive_data(other.data_to_send())
    with pytest.raises(IllegalParameter, match="secp256r1"):
        client.receive_data(server.data_to_send())
    assert alerts_in(client.data_to_send())[0].description == AlertDescription.ILLEGAL_PARAMETER


def test_server_certificate_on_an_offered_curve(anchors, server_credentials):
    groups = [NamedGroup.X25519, NamedGroup.SECP256R1]
    client, _, client_events, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": ["ECDHE-ECDSA-AES128-GCM-SHA256"], "groups": groups},
    )
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert client.peer_certificates[0].public_key().curve.name == "secp256r1"


# -------------------------------------------------------------------------- RFC 8422: the server's curves
# RFC 8422 §5.1: a server "MUST NOT negotiate the use of an ECC cipher suite" that it cannot
# complete with the curves the client named in supported_groups; §5.3: its ECDSA certificate
# "MUST employ a curve supported by the client". OpenSSL 3.0's server drops an ECDSA
# certificate whose curve the client did not name (tls1_set_cert_validity -> tls1_check_chain
# -> tls1_check_cert_param -> tls1_check_group_id, ssl/t1_lib.c) before ssl3_choose_cipher
# (ssl/s3_lib.c) reads the masks ssl_set_masks built from it: the ECDSA suites are skipped, a
# shared RSA suite is chosen instead, and with none left it is handshake_failure ("no shared
# cipher"). An ECDHE suite also needs a group both sides name (tls1_check_ec_tmp_key).
ECDSA_THEN_RSA = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"]


def test_server_skips_its_ecdsa_certificate_on_a_curve_the_client_did_not_offer(anchors, server_credentials):
    client, server, client_events, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": ECDSA_THEN_RSA, "groups": [NamedGroup.X25519]},
        server={"cipher_suites": ECDSA_THEN_RSA},
    )
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert server.cipher_suite == CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    assert client.peer_certificates[0].public_key().key_size == 2048  # the RSA certificate


def test_server_without_another_suite_answers_no_shared_cipher(anchors, server_credentials):
    client, server = make_pair(
        anchors,
        server_credentials,
        client={"cipher_suites": ECDSA_THEN_RSA[:1], "groups": [NamedGroup.X25519]},
        server={"cipher_suites": ECDSA_THEN_RSA},
    )
    client.start_handshake()
    with pytest.raises(HandshakeFailure, match="no shared cipher"):
        server.receive_data(client.data_to_send())
    assert [a.description for a in alerts_in(server.data_to_send())] == [AlertDescription.HANDSHAKE_FAILURE]


@pytest.mark.parametrize(
    "client_groups",
    [[NamedGroup.X25519, NamedGroup.SECP256R1], [NamedGroup.SECP256R1]],
    ids=["x25519+p256", "p256"],
)
def test_server_keeps_its_ecdsa_certificate_on_an_offered_curve(anchors, server_credentials, client_groups):
    _, server, client_events, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": ECDSA_THEN_RSA, "groups": client_groups},
        server={"cipher_suites": ECDSA_THEN_RSA},
    )
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert server.cipher_suite == CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256


def test_server_keeps_its_ecdsa_certificate_when_the_client_names_no_groups(anchors, server_credentials):
    # RFC 8422 §4 / OpenSSL tls1_check_group_id: no supported_groups extension, no restriction
    client, server = make_pair(
        anchors,
        server_credentials,
        client={"cipher_suites": ECDSA_THEN_RSA, "groups": []},
        server={"cipher_suites": ECDSA_THEN_RSA},
    )
    client.start_handshake()
    server.receive_data(client.data_to_send())
    assert server.transcript.find("ClientHello", "client").decoded.supported_groups is None
    assert server.cipher_suite == CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256


def test_server_ecdhe_group_is_one_the_client_offered(anchors, server_credentials):
    # the server prefers P-384, which the client does not name: it must fall back to X25519
    _, server, client_events, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": ECDSA_THEN_RSA, "groups": [NamedGroup.X25519, NamedGroup.SECP256R1]},
        server={"cipher_suites": ECDSA_THEN_RSA, "groups": [NamedGroup.SECP384R1, NamedGroup.X25519]},
    )
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    key_exchange = server.transcript.find("ServerKeyExchange", "server").decoded
    assert key_exchange.params.named_curve == NamedGroup.X25519


def test_server_with_no_ecdhe_group_in_common_picks_another_suite(anchors, server_credentials):
    suites = ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-GCM-SHA256"]
    _, server, client_events, _ = handshake(
        anchors,
        server_credentials,
        client={"cipher_suites": suites, "groups": [NamedGroup.SECP256R1]},
        server={"cipher_suites": suites, "groups": [NamedGroup.X25519]},
    )
    assert any(isinstance(e, HandshakeComplete) for e in client_events)
    assert server.cipher_suite == CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256


# -------------------------------------------------------------------------- RFC 8422: a client certificate's curve
# OpenSSL 3.0's server checks a client's ECDSA key with its CertificateVerify
# (tls_process_cert_verify -> tls12_check_peer_sigalg, ssl/t1_lib.c: "Check curve matches
# extensions", tls1_check_group_id(s, group, 1)): the key's curve must be one the client named in
# supported_groups (when it sent the extension) and one of the server's own groups, else
# illegal_parameter (SSL_R_WRONG_CURVE), before the signature is verified. In TLS 1.2 it does
# not tie the curve to the scheme's hash (that check is for TLS 1.3 and Suite B only): a P-256
# key may sign with ecdsa_secp384r1_sha384 (tests/interop/test_rfc8422_interop.py shows s_server agree).
RSA_SUITE_ONLY = ["ECDHE-RSA-AES128-GCM-SHA256"]
X25519_AND_P256 = [NamedGroup.X25519, NamedGroup.SECP256R1]


@pytest.fixture(scope="module")
def ec_client_credential(ec_pki: DemoPKI) -> Credential:
    return Credential((ec_pki.client, ec_pki.intermediate), ec_pki.client_key)


def _client_certificate_verify_answer(anchors, server_credentials, credential, *, client, server):
    """Run a mutual-TLS handshake up to the client's second flight; return the server."""
    client_connection, server_connection = make_pair(
        anchors,
        server_credentials,
        client={"cipher_suites": RSA_SUITE_ONLY, "credentials": [credential], **client},
        server={"request_client_certificate": True, **server},
    )
    client_connection.start_handshake()
    server_connection.receive_data(client_connection.data_to_send())
    client_connection.receive_data(server_connection.data_to_send())
    return client_connection, server_connection


@pytest.mark.parametrize(
    ("client_groups", "server_groups"),
    [
        ([NamedGroup.X25519], X25519_AND_P256),
        ([NamedGroup.X25519, NamedGroup.SECP256R1], [NamedGroup.X25519]),
    ],
    ids=["client-did-not-name-p256", "server-does-not-name-p256"],
)
def test_client_certificate_on_a_curve_not_named_by_both_is_illegal_parameter(
    anchors, server_credentials, ec_client_credential, client_groups, server_groups
):
    client, server = _client_certificate_verify_answer(
        anchors,
        server_credentials,
        ec_client_credential,
        client={"groups": client_groups},
        server={"groups": server_groups},
    )
    with pytest.raises(IllegalParameter, match="secp256r1"):
        server.receive_data(client.data_to_send())
    assert [a.description for a in alerts_in(server.data_to_send())] == [AlertDescription.ILLEGAL_PARAMETER]


@pytest.mark.parametrize(
    ("client_options", "scheme"),
    [
        ({"groups": X25519_AND_P256}, SignatureScheme.ECDSA_SECP256R1_SHA256),
        # TLS 1.2: a P-256 key may sign with the P-384 code point's hash (OpenSSL accepts it)
        (
            {
                "signature_schemes": [
                    SignatureScheme.ECDSA_SECP384R1_SHA384,
                    SignatureScheme.RSA_PSS_RSAE_SHA256,
                ]
            },
            SignatureScheme.ECDSA_SECP384R1_SHA384,
        ),
        ({"groups": [], "cipher_suites": ["AES128-GCM-SHA256"]}, SignatureScheme.ECDSA_SECP256R1_SHA256),
    ],
    ids=["named-by-both", "p256-key-sha384-scheme", "no-supported-groups"],
)
def test_client_certificate_on_a_curve_named_by_both_is_accepted(
    anchors, server_credentials, ec_client_credential, client_options, scheme
):
    client, server = _client_certificate_verify_answer(
        anchors, server_credentials, ec_client_credential, client=client_options, server={}
    )
    _, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)
    assert server.transcript.find("CertificateVerify", "client").decoded.scheme == scheme
    assert server.peer_certificates[0] == ec_client_credential.certificate_chain[0]


# OpenSSL 3.0's own groups, when the server was given none (supported_groups_default in
# ssl/t1_lib.c), name P-384 and P-521 too, so a default s_server -Verify accepts a client
# certificate on those curves (tests/interop/test_rfc8422_interop.py shows it). httpslab's default
# server checks the curve against that list; an explicitly configured list is used as given.
def _ec_client_credential_on(ec_pki: DemoPKI, curve: ec.EllipticCurve) -> Credential:
    key = ec.generate_private_key(curve)
    certificate = ec_pki.issue_client(f"httpslab DEMO client {curve.name}", public_key=key.public_key())
    return Credential((certificate, ec_pki.intermediate), key)


CURVES = {NamedGroup.SECP384R1: ec.SECP384R1(), NamedGroup.SECP521R1: ec.SECP521R1()}


@pytest.mark.parametrize("group", list(CURVES), ids=lambda g: g.name.lower())
@pytest.mark.parametrize(
    "scheme",
    [
        SignatureScheme.ECDSA_SECP256R1_SHA256,
        SignatureScheme.ECDSA_SECP384R1_SHA384,
        SignatureScheme.ECDSA_SECP521R1_SHA512,
    ],
    ids=["sha256", "sha384", "sha512"],
)
def test_default_server_accepts_a_client_certificate_on_openssls_default_curves(
    anchors, server_credentials, ec_pki, group, scheme
):
    credential = _ec_client_credential_on(ec_pki, CURVES[group])
    client, server = _client_certificate_verify_answer(
        anchors,
        server_credentials,
        credential,
        client={
            "groups": [*X25519_AND_P256, group],
            "signature_schemes": [scheme, SignatureScheme.RSA_PSS_RSAE_SHA256],
        },
        # the server's groups are the default; it asks for the client's one scheme as well
        server={"signature_schemes": [scheme, SignatureScheme.RSA_PSS_RSAE_SHA256]},
    )
    _, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)
    certificate_verify = server.transcript.find("CertificateVerify", "client").decoded
    assert certificate_verify.scheme == scheme  # and its signature on the curve was verified
    assert server.peer_certificates[0] == credential.certificate_chain[0]


@pytest.mark.parametrize("group", list(CURVES), ids=lambda g: g.name.lower())
def test_configured_server_groups_are_used_as_given_for_a_client_certificate(
    anchors, server_credentials, ec_pki, group
):
    credential = _ec_client_credential_on(ec_pki, CURVES[group])
    client_options = {"groups": [*X25519_AND_P256, group]}
    client, server = _client_certificate_verify_answer(
        anchors, server_credentials, credential, client=client_options, server={"groups": X25519_AND_P256}
    )
    with pytest.raises(IllegalParameter, match=CURVES[group].name):
        server.receive_data(client.data_to_send())
    client, server = _client_certificate_verify_answer(
        anchors,
        server_credentials,
        credential,
        client=client_options,
        server={"groups": [*X25519_AND_P256, group]},
    )
    _, server_events = pump(client, server)
    assert any(isinstance(e, HandshakeComplete) for e in server_events)


def test_a_client_certificate_curve_the_client_did_not_name_is_refused_by_a_default_server(
    anchors, server_credentials, ec_pki
):
    credential = _ec_client_credential_on(ec_pki, ec.SECP384R1())
    client, server = _client_certificate_verify_answer(
        anchors, server_credentials, credential, client={"groups": X25519_AND_P256}, server={}
    )
    with pytest.raises(IllegalParameter, match="did not name"):
        server.receive_data(client.data_to_send())


# -------------------------------------------------------------------------- parity rows without another test
# (docs/openssl-parity.md names these tests)


def test_a_client_hello_below_tls_1_2_is_protocol_version(server_credentials):
    server = ServerConnection(TLSConfig(credentials=server_credentials))
    hello = ClientHello(
        legacy_version=0x0302, random=bytes(32), cipher_suites=[CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256]
    )
    with pytest.raises(RemoteProtocolError, match=r"TLS 1\.2 only") as raised:
        server.receive_data(Record(ContentType.HANDSHAKE, 0x0301, encode_handshake(hello)).encode())
    assert raised.value.alert == AlertDescription.PROTOCOL_VERSION
    assert alerts_in(server.data_to_send()) == [Alert(2, AlertDescription.PROTOCOL_VERSION)]


def test_a_dh_group_below_minimum_dh_bits_is_handshake_failure(anchors, server_credentials):
    client_fields = {
        "cipher_suites": [CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256],
        "minimum_dh_bits": 3072,
        "groups": [NamedGroup.FFDHE2048],
    }
    with pytest.raises(HandshakeFailure, match="2048 bits; at least 3072"):
        handshake(anchors, server_credentials, client=client_fields)


def test_a_certificate_that_does_not_fit_the_suite_is_illegal_parameter(anchors, server_credentials, ec_pki):
    from cryptography.hazmat.primitives.serialization import Encoding

    from httpslab.messages import Certificate, HandshakeReader

    client, _, flight = _server_flight(
        anchors,
        server_credentials,
        client={"cipher_suites": [CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]},
    )
    ecdsa_chain = Certificate(
        (ec_pki.server.public_bytes(Encoding.DER), ec_pki.intermediate.public_bytes(Encoding.DER))
    )
    messages = HandshakeReader().feed(b"".join(record.fragment for record in _records_of(flight)))
    swapped = b"".join(
        encode_handshake(ecdsa_chain) if kind == HandshakeType.CERTIFICATE else raw for kind, raw in messages
    )
    with pytest.raises(IllegalParameter, match="needs an RSA certificate") as raised:
        client.receive_data(Record(ContentType.HANDSHAKE, 0x0303, swapped).encode())
    assert raised.value.alert == AlertDescription.ILLEGAL_PARAMETER
