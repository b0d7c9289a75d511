"""Tests for httpslab.messages: real OpenSSL handshakes round-trip byte for byte.

Python's ``ssl`` module (OpenSSL 3) runs a TLS 1.2 client and server over ``ssl.MemoryBIO``
pairs in this process. The test strips the record headers itself, cuts the plaintext
handshake records into messages with :class:`HandshakeReader`, and checks that every message
decodes, re-encodes to the same bytes, and holds what OpenSSL says was negotiated (and that
the ServerKeyExchange and CertificateVerify signatures verify with ``cryptography``).

``PYTHONPATH=tests python tests/unit/messages/test_messages.py --write-vectors`` regenerates
tests/vectors/messages/*.bin.
"""

from __future__ import annotations

import datetime
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openssl_dh import parameter_numbers

from httpslab.crypto.suites import suite_info
from httpslab.enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ClientCertificateType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
)
from httpslab.errors import (
    DecodeError,
    IllegalParameter,
    LocalProtocolError,
    TLSError,
    UnexpectedMessage,
)
from httpslab.messages import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    ExtendedMasterSecretExtension,
    Finished,
    HandshakeReader,
    HelloRequest,
    NewSessionTicket,
    RawExtension,
    ServerDHParams,
    ServerECDHParams,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    ServerNameExtension,
    SupportedGroupsExtension,
    decode_alert,
    decode_change_cipher_spec,
    decode_handshake,
    encode_alert,
    encode_change_cipher_spec,
    encode_handshake,
    field_spans,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "messages"
HOSTNAME = "localhost"

# ---------------------------------------------------------------------------------------
# throwaway keys and certificates
# ---------------------------------------------------------------------------------------


def _self_signed(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, common_name: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


@dataclass
class Identity:
    certificate: x509.Certificate
    cert_file: Path
    key_file: Path

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def _identity(directory: Path, label: str, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Identity:
    certificate = _self_signed(key, HOSTNAME if label != "client" else "httpslab test client")
    cert_file = directory / f"{label}.crt"
    key_file = directory / f"{label}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Identity(certificate, cert_file, key_file)


@dataclass
class Material:
    rsa_server: Identity
    ecdsa_server: Identity
    client: Identity
    dh_params_file: Path

    @property
    def ffdhe2048_p(self) -> int:
        # read by OpenSSL itself (cryptography's FFDH API is deprecated and warns)
        return parameter_numbers(self.dh_params_file.read_bytes())[0]


def make_material(directory: Path) -> Material:
    dh_params_file = directory / "ffdhe2048.pem"
    # RFC 7919 ffdhe2048, as OpenSSL knows it by name.
    subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048"],
        check=True,
        stdout=dh_params_file.open("wb"),
    )
    return Material(
        rsa_server=_identity(directory, "rsa", rsa.generate_private_key(65537, 2048)),
        ecdsa_server=_identity(directory, "ecdsa", ec.generate_private_key(ec.SECP256R1())),
        client=_identity(directory, "client", rsa.generate_private_key(65537, 2048)),
        dh_params_file=dh_params_file,
    )


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    return make_material(tmp_path_factory.mktemp("pki"))


# ---------------------------------------------------------------------------------------
# an in-memory OpenSSL handshake, captured
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    ciphers: str
    server_identity: str = "rsa_server"
    ecdh_curve: str | None = None  # None: OpenSSL's default preference (X25519 first)
    client_auth: bool = False


@dataclass
class Capture:
    client_messages: list[tuple[int, bytes]]  # plaintext handshake messages, client → server
    server_messages: list[tuple[int, bytes]]
    negotiated_cipher: str  # OpenSSL's name, from SSLObject.cipher()
    client_handshake_payloads: list[bytes]  # the handshake record payloads, for reader tests


def _plaintext_handshake_payloads(stream: bytes) -> list[bytes]:
    """Handshake record payloads up to the first ChangeCipherSpec (after it, all is encrypted)."""
    payloads = []
    offset = 0
    while offset < len(stream):
        content_type = stream[offset]
        length = int.from_bytes(stream[offset + 3 : offset + 5], "big")
        payload = stream[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if content_type == 20:  # change_cipher_spec
            break
        assert content_type == 22, f"unexpected plaintext record type {content_type}"
        payloads.append(payload)
    return payloads


def _split_messages(payloads: list[bytes]) -> list[tuple[int, bytes]]:
    reader = HandshakeReader()
    messages = []
    for payload in payloads:
        messages.extend(reader.feed(payload))
    assert not reader.has_partial_message
    return messages


def run_handshake(material: Material, scenario: Scenario) -> Capture:
    server_identity: Identity = getattr(material, scenario.server_identity)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ctx in (server_ctx, client_ctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(scenario.ciphers)
    server_ctx.load_cert_chain(server_identity.cert_file, server_identity.key_file)
    server_ctx.load_dh_params(material.dh_params_file)
    if scenario.ecdh_curve:
        server_ctx.set_ecdh_curve(scenario.ecdh_curve)
    if scenario.client_auth:
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        server_ctx.load_verify_locations(cadata=material.client.pem)
        client_ctx.load_cert_chain(material.client.cert_file, material.client.key_file)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE

    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(client_in, client_out, server_hostname=HOSTNAME)
    server = server_ctx.wrap_bio(server_in, server_out, server_side=True)
    to_server, to_client = bytearray(), bytearray()
    client_done = server_done = False
    for _ in range(20):
        if not client_done:
            try:
                client.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
        data = client_out.read()
        to_server += data
        server_in.write(data)
        if not server_done:
            try:
                server.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
        data = server_out.read()
        to_client += data
        client_in.write(data)
        if client_done and server_done:
            break
    assert client_done and server_done, "the in-memory handshake did not finish"
    cipher = server.cipher()
    assert cipher is not None and cipher == client.cipher()
    client_payloads = _plaintext_handshake_payloads(bytes(to_server))
    return Capture(
        client_messages=_split_messages(client_payloads),
        server_messages=_split_messages(_plaintext_handshake_payloads(bytes(to_client))),
        negotiated_cipher=cipher[0],
        client_handshake_payloads=client_payloads,
    )


# ---------------------------------------------------------------------------------------
# signature checks, done with cryptography directly (independent of httpslab)
# ---------------------------------------------------------------------------------------

_HASHES = {
    SignatureScheme.RSA_PKCS1_SHA256: hashes.SHA256,
    SignatureScheme.RSA_PKCS1_SHA384: hashes.SHA384,
    SignatureScheme.RSA_PKCS1_SHA512: hashes.SHA512,
    SignatureScheme.RSA_PSS_RSAE_SHA256: hashes.SHA256,
    SignatureScheme.RSA_PSS_RSAE_SHA384: hashes.SHA384,
    SignatureScheme.RSA_PSS_RSAE_SHA512: hashes.SHA512,
    SignatureScheme.ECDSA_SECP256R1_SHA256: hashes.SHA256,
    SignatureScheme.ECDSA_SECP384R1_SHA384: hashes.SHA384,
}


def verify_signature(certificate_der: bytes, scheme: int, signature: bytes, signed: bytes) -> None:
    """Raise InvalidSignature unless ``signature`` is ``scheme`` over ``signed``."""
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    hash_algorithm = _HASHES[SignatureScheme(scheme)]()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, signed, ec.ECDSA(hash_algorithm))
    elif SignatureScheme(scheme).name.startswith("RSA_PSS"):
        pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
        public_key.verify(signature, signed, pss, hash_algorithm)  # type: ignore[union-attr, call-arg]
    else:
        public_key.verify(signature, signed, padding.PKCS1v15(), hash_algorithm)  # type: ignore[union-attr, call-arg]


# ---------------------------------------------------------------------------------------
# real handshakes
# ---------------------------------------------------------------------------------------

SCENARIOS = [
    Scenario("rsa", "AES128-GCM-SHA256"),
    Scenario("rsa_cbc", "AES128-SHA256"),
    Scenario("dhe", "DHE-RSA-AES128-GCM-SHA256"),
    Scenario("ecdhe_x25519", "ECDHE-RSA-AES128-GCM-SHA256"),
    Scenario("ecdhe_p256_cbc", "ECDHE-RSA-AES128-SHA256", ecdh_curve="prime256v1"),
    Scenario("ecdsa", "ECDHE-ECDSA-AES128-GCM-SHA256", server_identity="ecdsa_server"),
    Scenario("client_auth_ecdhe", "ECDHE-RSA-AES256-GCM-SHA384", client_auth=True),
    Scenario("client_auth_rsa", "AES256-GCM-SHA384", client_auth=True),
    Scenario("client_auth_dhe", "DHE-RSA-CHACHA20-POLY1305", client_auth=True),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_openssl_handshake_round_trips(material: Material, scenario: Scenario) -> None:
    capture = run_handshake(material, scenario)
    server_types = [msg_type for msg_type, _ in capture.server_messages]
    client_types = [msg_type for msg_type, _ in capture.client_messages]

    hello_raw = capture.client_messages[0][1]
    client_hello = decode_handshake(hello_raw)
    server_hello = decode_handshake(capture.server_messages[0][1])
    assert isinstance(client_hello, ClientHello) and isinstance(server_hello, ServerHello)
    info = suite_info(server_hello.cipher_suite)
    key_exchange = info.key_exchange

    # every plaintext message: decode → encode gives the same bytes
    client: dict[int, object] = {}
    server: dict[int, object] = {}
    for messages, decoded in ((capture.client_messages, client), (capture.server_messages, server)):
        for msg_type, raw in messages:
            message = decode_handshake(raw, key_exchange=key_exchange)
            assert message.handshake_type == msg_type
            assert encode_handshake(message) == raw, f"{msg_type!r} does not round-trip"
            spans = field_spans(message)
            assert max(span.end for span in spans) == len(raw)
            # every described wire field has its bytes labelled (key_exchange is not on the wire)
            described = {name for name, _ in message.describe() if not name.startswith(" ")}
            assert described - {"key_exchange", "body"} <= {span.name for span in spans}
            decoded[msg_type] = message

    # the message sequence of RFC 5246 §7.3 for this key exchange
    expected_server = [HandshakeType.SERVER_HELLO, HandshakeType.CERTIFICATE]
    if key_exchange != "RSA":
        expected_server.append(HandshakeType.SERVER_KEY_EXCHANGE)
    if scenario.client_auth:
        expected_server.append(HandshakeType.CERTIFICATE_REQUEST)
    expected_server += [HandshakeType.SERVER_HELLO_DONE, HandshakeType.NEW_SESSION_TICKET]
    assert server_types == expected_server
    expected_client = [HandshakeType.CLIENT_HELLO]
    expected_client += [HandshakeType.CERTIFICATE] if scenario.client_auth else []
    expected_client += [HandshakeType.CLIENT_KEY_EXCHANGE]
    expected_client += [HandshakeType.CERTIFICATE_VERIFY] if scenario.client_auth else []
    assert client_types == expected_client

    # ClientHello: what we configured
    offered = [
        suite
        for suite in client_hello.cipher_suites
        if suite != CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    ]
    assert [suite_info(suite).openssl_name for suite in offered] == scenario.ciphers.split(":")
    assert client_hello.server_name == HOSTNAME
    assert client_hello.extended_master_secret
    assert (
        client_hello.signature_algorithms
        and SignatureScheme.RSA_PSS_RSAE_SHA256 in client_hello.signature_algorithms
    )
    if "ECDHE" in scenario.ciphers:  # OpenSSL sends supported_groups only when it offers ECDHE
        assert client_hello.supported_groups and NamedGroup.X25519 in client_hello.supported_groups
    assert len(client_hello.random) == 32 and hello_raw[6:38] == client_hello.random

    # ServerHello: what OpenSSL reports
    assert info.openssl_name == capture.negotiated_cipher
    assert server_hello.renegotiation_info == b""  # RFC 5746: empty on a first handshake
    assert server_hello.extended_master_secret
    assert server_hello.encrypt_then_mac == (not info.is_aead)
    assert server_hello.session_ticket == b""

    server_identity: Identity = getattr(material, scenario.server_identity)
    certificate = server[HandshakeType.CERTIFICATE]
    assert isinstance(certificate, Certificate)
    assert certificate.certificate_list == (server_identity.der,)

    if key_exchange != "RSA":
        server_key_exchange = server[HandshakeType.SERVER_KEY_EXCHANGE]
        assert isinstance(server_key_exchange, ServerKeyExchange)
        assert server_key_exchange.key_exchange == key_exchange
        raw_ske = dict(capture.server_messages)[HandshakeType.SERVER_KEY_EXCHANGE]
        params_bytes = server_key_exchange.params_bytes
        # params_bytes are the bytes right after the header, as sent
        assert raw_ske[4 : 4 + len(params_bytes)] == params_bytes
        verify_signature(
            server_identity.der,
            server_key_exchange.scheme,
            server_key_exchange.signature,
            server_key_exchange.signed_content(client_hello.random, server_hello.random),
        )
        params = server_key_exchange.params
        if key_exchange == "DHE":
            assert isinstance(params, ServerDHParams)
            assert params.dh_p == material.ffdhe2048_p.to_bytes(256, "big")
            assert params.dh_g == b"\x02"
        else:
            assert isinstance(params, ServerECDHParams)
            expected_group = NamedGroup.SECP256R1 if scenario.ecdh_curve else NamedGroup.X25519
            assert params.named_curve == expected_group
            assert len(params.point) == (65 if expected_group == NamedGroup.SECP256R1 else 32)

    client_key_exchange = client[HandshakeType.CLIENT_KEY_EXCHANGE]
    assert isinstance(client_key_exchange, ClientKeyExchange)
    if key_exchange == "RSA":
        assert len(client_key_exchange.exchange_keys) == 256  # 2048-bit RSA modulus
    elif key_exchange == "DHE":
        assert 0 < len(client_key_exchange.exchange_keys) <= 256
    else:
        assert len(client_key_exchange.exchange_keys) in (32, 65)

    if scenario.client_auth:
        request = server[HandshakeType.CERTIFICATE_REQUEST]
        assert isinstance(request, CertificateRequest)
        assert ClientCertificateType.RSA_SIGN in request.certificate_types
        assert ClientCertificateType.ECDSA_SIGN in request.certificate_types
        assert SignatureScheme.RSA_PSS_RSAE_SHA256 in request.supported_signature_algorithms
        client_certificate = client[HandshakeType.CERTIFICATE]
        assert isinstance(client_certificate, Certificate)
        assert client_certificate.certificate_list == (material.client.der,)
        # RFC 5246 §7.4.8: the signature covers every handshake message before CertificateVerify
        verify = client[HandshakeType.CERTIFICATE_VERIFY]
        assert isinstance(verify, CertificateVerify)
        signed = (
            capture.client_messages[0][1]
            + b"".join(raw for _, raw in capture.server_messages[:-1])  # all but NewSessionTicket
            + b"".join(raw for _, raw in capture.client_messages[1:-1])
        )
        verify_signature(material.client.der, verify.scheme, verify.signature, signed)

    ticket = server[HandshakeType.NEW_SESSION_TICKET]
    assert isinstance(ticket, NewSessionTicket) and ticket.ticket and ticket.lifetime_hint > 0


def test_reader_reassembles_whatever_the_record_boundaries(material: Material) -> None:
    capture = run_handshake(material, Scenario("chunks", "ECDHE-RSA-AES128-GCM-SHA256", client_auth=True))
    stream = b"".join(raw for _, raw in capture.server_messages)
    for chunk_size in (1, 3, 7, 100, 5000, len(stream)):
        reader = HandshakeReader()
        messages = []
        for start in range(0, len(stream), chunk_size):
            messages.extend(reader.feed(stream[start : start + chunk_size]))
        assert messages == capture.server_messages
        assert not reader.has_partial_message


# ---------------------------------------------------------------------------------------
# stored vectors (tests/vectors/messages, see its README)
# ---------------------------------------------------------------------------------------


def _vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def _vector_messages() -> list[tuple[int, bytes]]:
    reader = HandshakeReader()
    return reader.feed(_vector("openssl3_client_hello.bin")) + reader.feed(
        _vector("openssl3_server_flight_ecdhe_rsa.bin")
    )


def test_vector_client_hello() -> None:
    raw = _vector("openssl3_client_hello.bin")
    hello = decode_handshake(raw)
    assert isinstance(hello, ClientHello)
    assert encode_handshake(hello) == raw
    assert hello.cipher_suites == (
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    )
    assert hello.server_name == "localhost"
    assert hello.session_id == b""  # the README says: no session resumption
    assert hello.extended_master_secret and hello.encrypt_then_mac
    assert hello.session_ticket == b""
    # the extensions come back in the order they were sent
    assert [ext.type for ext in hello.extensions] == [
        int.from_bytes(raw[offset : offset + 2], "big") for offset in _extension_offsets(raw)
    ]


def _extension_offsets(raw: bytes) -> list[int]:
    """Walk a ClientHello by hand (header, version, random, session_id, suites, compressions)."""
    offset = 4 + 2 + 32
    offset += 1 + raw[offset]
    offset += 2 + int.from_bytes(raw[offset : offset + 2], "big")
    offset += 1 + raw[offset]
    end = offset + 2 + int.from_bytes(raw[offset : offset + 2], "big")
    offset += 2
    offsets = []
    while offset < end:
        offsets.append(offset)
        offset += 4 + int.from_bytes(raw[offset + 2 : offset + 4], "big")
    return offsets


def test_vector_server_flight() -> None:
    messages = _vector_messages()
    assert [msg_type for msg_type, _ in messages] == [
        HandshakeType.CLIENT_HELLO,
        HandshakeType.SERVER_HELLO,
        HandshakeType.CERTIFICATE,
        HandshakeType.SERVER_KEY_EXCHANGE,
        HandshakeType.SERVER_HELLO_DONE,
    ]
    decoded = [decode_handshake(raw, key_exchange="ECDHE") for _, raw in messages]
    assert [encode_handshake(message) for message in decoded] == [raw for _, raw in messages]
    client_hello, server_hello, certificate, server_key_exchange, done = decoded
    assert isinstance(server_hello, ServerHello)
    assert server_hello.cipher_suite == CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    assert isinstance(certificate, Certificate) and len(certificate.certificate_list) == 1
    assert (
        x509.load_der_x509_certificate(certificate.certificate_list[0]).subject.rfc4514_string()
        == "CN=localhost"
    )
    assert isinstance(server_key_exchange, ServerKeyExchange)
    assert isinstance(server_key_exchange.params, ServerECDHParams)
    assert server_key_exchange.params.named_curve == NamedGroup.X25519
    verify_signature(
        certificate.certificate_list[0],
        server_key_exchange.scheme,
        server_key_exchange.signature,
        server_key_exchange.signed_content(client_hello.random, server_hello.random),
    )
    assert isinstance(done, ServerHelloDone)


def test_field_spans_label_the_right_bytes() -> None:
    raw = dict(_vector_messages())[HandshakeType.SERVER_HELLO]
    hello = decode_handshake(raw)
    spans = {span.name: span for span in field_spans(hello)}
    assert raw[spans["random"].start : spans["random"].end] == hello.random
    assert raw[spans["cipher_suite"].start : spans["cipher_suite"].end] == hello.cipher_suite.to_bytes(
        2, "big"
    )
    assert spans["body"].end == len(raw) and spans["body"].start == 4
    rows = dict(hello.describe())
    assert "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in rows["cipher_suite"]


# ---------------------------------------------------------------------------------------
# hand-made messages and bad input
# ---------------------------------------------------------------------------------------

RANDOM = bytes(range(32))


def _hello_bytes(
    *,
    session_id: bytes = b"",
    suites: bytes = b"\x00\x02\xc0\x2f",
    compressions: bytes = b"\x01\x00",
    tail: bytes = b"",
) -> bytes:
    body = b"\x03\x03" + RANDOM + bytes([len(session_id)]) + session_id + suites + compressions + tail
    return b"\x01" + len(body).to_bytes(3, "big") + body


def test_hand_made_client_hello_without_extensions() -> None:
    raw = _hello_bytes()
    hello = decode_handshake(raw)
    assert isinstance(hello, ClientHello)
    assert hello.extensions is None and hello.server_name is None and not hello.extended_master_secret
    assert encode_handshake(hello) == raw
    assert encode_handshake(ClientHello(random=RANDOM, cipher_suites=[0xC02F], extensions=None)) == raw


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (_hello_bytes(session_id=bytes(33)), DecodeError),  # SessionID<0..32>
        (_hello_bytes(suites=b"\x00\x00"), DecodeError),  # cipher_suites<2..2^16-2>
        (_hello_bytes(suites=b"\x00\x03\xc0\x2f\x00"), DecodeError),  # odd length
        (_hello_bytes(compressions=b"\x00"), DecodeError),  # compression_methods<1..2^8-1>
        (_hello_bytes(tail=b"\x00"), DecodeError),  # half an extensions length
        (_hello_bytes(tail=b"\x00\x04\x00\x17\x00\x00\x00"), DecodeError),  # block overrun
        (_hello_bytes(tail=b"\x00\x05\x00\x17\x00\x01\x00"), DecodeError),  # EMS must be empty
        (_hello_bytes(tail=b"\x00\x08\x00\x17\x00\x00\x00\x17\x00\x00"), IllegalParameter),  # twice
        (_hello_bytes(tail=b"\x00\x06\x00\x0a\x00\x02\x00\x00"), DecodeError),  # empty group list
        (_hello_bytes(tail=b"\x00\x09\x00\x00\x00\x05\x00\x03\x00\x00\x00"), DecodeError),  # empty HostName
        (b"\x63\x00\x00\x00", UnexpectedMessage),  # no such handshake type
        (b"\x0e\x00\x00\x01\x00", DecodeError),  # ServerHelloDone with a body
        (b"\x0e\x00\x00\x00\x00", DecodeError),  # a byte after the message
        (b"\x0b\x00\x00\x06\x00\x00\x03\x00\x00\x00", DecodeError),  # an empty ASN.1Cert
        (
            b"\x0d\x00\x00\x05\x00\x00\x02\x04\x01",
            DecodeError,
        ),  # CertificateRequest: certificate_types<1..2^8-1> is empty
    ],
)
def test_bad_handshake_bytes(raw: bytes, error: type[TLSError]) -> None:
    with pytest.raises(error):
        decode_handshake(raw)


def test_unknown_code_points_survive() -> None:
    grease = 0x0A0A
    hello = ClientHello(
        random=RANDOM,
        cipher_suites=[grease, CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256],
        extensions=[
            (grease, b""),
            SupportedGroupsExtension(groups=[grease, NamedGroup.X25519]),
            (ExtensionType.SUPPORTED_VERSIONS, b"\x02\x03\x03"),
            ServerNameExtension.for_host("example.test"),
        ],
    )
    raw = encode_handshake(hello)
    again = decode_handshake(raw)
    assert again == hello and encode_handshake(again) == raw
    assert again.cipher_suites[0] == grease and not isinstance(again.cipher_suites[0], CipherSuite)
    assert again.supported_groups == (grease, NamedGroup.X25519)
    assert again.extension(ExtensionType.SUPPORTED_VERSIONS) == RawExtension(43, b"\x02\x03\x03")
    assert again.server_name == "example.test"


def test_server_hello_absent_versus_empty_extensions() -> None:
    absent = ServerHello(random=RANDOM, cipher_suite=0x009C, extensions=None)
    empty = ServerHello(random=RANDOM, cipher_suite=0x009C, extensions=())
    assert encode_handshake(absent).endswith(b"\x00\x9c\x00")
    assert encode_handshake(empty).endswith(b"\x00\x9c\x00\x00\x00")
    for message in (absent, empty):
        again = decode_handshake(encode_handshake(message))
        assert again == message and encode_handshake(again) == encode_handshake(message)


def test_constructors_check_the_rfc_rules() -> None:
    with pytest.raises(LocalProtocolError):
        ClientHello(random=bytes(31), cipher_suites=[0xC02F])
    with pytest.raises(LocalProtocolError):
        ClientHello(random=RANDOM, cipher_suites=[0xC02F], session_id=bytes(33))
    with pytest.raises(LocalProtocolError):
        ClientHello(random=RANDOM, cipher_suites=[])
    with pytest.raises(LocalProtocolError):
        ClientHello(
            random=RANDOM,
            cipher_suites=[0xC02F],
            extensions=[ExtendedMasterSecretExtension(), ExtendedMasterSecretExtension()],
        )
    with pytest.raises(LocalProtocolError):
        ClientKeyExchange(key_exchange="PSK", exchange_keys=b"x")  # type: ignore[arg-type]


def test_key_exchange_dependent_messages() -> None:
    ecdhe = ServerKeyExchange(
        params=ServerECDHParams(named_curve=NamedGroup.X25519, point=bytes(32)),
        scheme=SignatureScheme.RSA_PSS_RSAE_SHA256,
        signature=b"sig",
    )
    raw = encode_handshake(ecdhe)
    assert raw[4:8] == b"\x03\x00\x1d\x20"  # named_curve, x25519, a 32-byte point
    assert ecdhe.params_bytes == raw[4 : 4 + 4 + 32]
    with pytest.raises(LocalProtocolError):
        decode_handshake(raw)  # which key exchange? the caller must say
    with pytest.raises(UnexpectedMessage):
        decode_handshake(raw, key_exchange="RSA")
    assert decode_handshake(raw, key_exchange="ECDHE") == ecdhe
    with pytest.raises(IllegalParameter):
        decode_handshake(raw[:4] + b"\x01" + raw[5:], key_exchange="ECDHE")  # explicit_prime

    dhe = ServerKeyExchange(
        params=ServerDHParams(dh_p=b"\x17", dh_g=b"\x05", dh_Ys=b"\x08"),
        scheme=SignatureScheme.RSA_PKCS1_SHA256,
        signature=b"sig",
    )
    assert encode_handshake(dhe)[4:13] == b"\x00\x01\x17\x00\x01\x05\x00\x01\x08"
    assert decode_handshake(encode_handshake(dhe), key_exchange="DHE") == dhe

    for kind, expected in (("RSA", b"\x00\x02ab"), ("DHE", b"\x00\x02ab"), ("ECDHE", b"\x02ab")):
        message = ClientKeyExchange(key_exchange=kind, exchange_keys=b"ab")  # type: ignore[arg-type]
        raw = encode_handshake(message)
        assert raw == b"\x10" + len(expected).to_bytes(3, "big") + expected
        assert decode_handshake(raw, key_exchange=kind) == message
    with pytest.raises(LocalProtocolError):
        decode_handshake(b"\x10\x00\x00\x03\x02ab")


def test_small_messages() -> None:
    assert encode_handshake(HelloRequest()) == b"\x00\x00\x00\x00"
    assert decode_handshake(b"\x00\x00\x00\x00") == HelloRequest()
    assert decode_handshake(b"\x0e\x00\x00\x00") == ServerHelloDone()
    finished = decode_handshake(b"\x14\x00\x00\x0c" + bytes(range(12)))
    assert finished == Finished(verify_data=bytes(range(12)))
    ticket = NewSessionTicket(lifetime_hint=7200, ticket=b"T" * 5)
    assert encode_handshake(ticket) == b"\x04\x00\x00\x0b\x00\x00\x1c\x20\x00\x05TTTTT"


def test_alert_and_change_cipher_spec() -> None:
    alert = decode_alert(b"\x02\x28")
    assert alert == Alert(AlertLevel.FATAL, AlertDescription.HANDSHAKE_FAILURE) and alert.is_fatal
    assert encode_alert(alert) == b"\x02\x28"
    assert decode_alert(b"\x01\xfe").description == 0xFE  # unknown description survives
    for bad, error in (
        (b"\x02", DecodeError),
        (b"\x02\x28\x00", DecodeError),
        (b"\x03\x28", IllegalParameter),
    ):
        with pytest.raises(error):
            decode_alert(bad)
    assert encode_change_cipher_spec() == b"\x01"
    decode_change_cipher_spec(b"\x01")
    for bad, error in ((b"", DecodeError), (b"\x01\x01", DecodeError), (b"\x02", IllegalParameter)):
        with pytest.raises(error):
            decode_change_cipher_spec(bad)


def test_reader_refuses_huge_lengths_and_splits_records() -> None:
    reader = HandshakeReader()
    with pytest.raises(IllegalParameter):
        reader.feed(b"\x0b\xff\xff\xff")
    reader = HandshakeReader()
    assert reader.feed(b"\x0e\x00") == []
    assert reader.has_partial_message
    two = reader.feed(b"\x00\x00\x14\x00\x00\x02ab")
    assert two == [
        (HandshakeType.SERVER_HELLO_DONE, b"\x0e\x00\x00\x00"),
        (HandshakeType.FINISHED, b"\x14\x00\x00\x02ab"),
    ]
    assert not reader.has_partial_message


def test_truncated_or_extended_real_messages_are_decode_errors() -> None:
    # (Finished is not among them: its verify_data takes whatever length is there.)
    for _, raw in _vector_messages():
        for cut in range(len(raw)):
            with pytest.raises(DecodeError):
                decode_handshake(raw[:cut], key_exchange="ECDHE")
        with pytest.raises(DecodeError):
            decode_handshake(raw + b"\x00", key_exchange="ECDHE")
        # one more byte inside the body, with the length adjusted to match
        longer = raw[:1] + (len(raw) - 3).to_bytes(3, "big") + raw[4:] + b"\x00"
        with pytest.raises(DecodeError):
            decode_handshake(longer, key_exchange="ECDHE")


# ---------------------------------------------------------------------------------------
# fuzzing: only TLSError subclasses may escape
# ---------------------------------------------------------------------------------------

_KEY_EXCHANGES = st.sampled_from([None, "RSA", "DHE", "ECDHE"])
_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_tls_error(data: bytes, key_exchange: str | None) -> None:
    try:
        message = decode_handshake(data, key_exchange=key_exchange)
    except TLSError:
        return
    assert encode_handshake(message) == data  # whatever decodes, re-encodes exactly


@_FUZZ
@given(data=st.binary(max_size=300), key_exchange=_KEY_EXCHANGES)
def test_fuzz_random_bytes(data: bytes, key_exchange: str | None) -> None:
    _decode_or_tls_error(data, key_exchange)


@_FUZZ
@given(
    msg_type=st.sampled_from(list(HandshakeType)), body=st.binary(max_size=200), key_exchange=_KEY_EXCHANGES
)
def test_fuzz_random_bodies(msg_type: int, body: bytes, key_exchange: str | None) -> None:
    _decode_or_tls_error(bytes([msg_type]) + len(body).to_bytes(3, "big") + body, key_exchange)


@_FUZZ
@given(
    index=st.integers(min_value=0),
    value=st.integers(0, 255),
    which=st.integers(0, 4),
    key_exchange=_KEY_EXCHANGES,
)
def test_fuzz_byte_flips_of_real_messages(
    index: int, value: int, which: int, key_exchange: str | None
) -> None:
    raw = bytearray(_vector_messages()[which][1])
    raw[index % len(raw)] = value
    _decode_or_tls_error(bytes(raw), key_exchange)
    reader = HandshakeReader()
    try:
        for _, message in reader.feed(bytes(raw)):
            _decode_or_tls_error(message, key_exchange)
    except TLSError:
        pass


@_FUZZ
@given(chunks=st.lists(st.binary(max_size=40), max_size=10))
def test_fuzz_reader(chunks: list[bytes]) -> None:
    reader = HandshakeReader(max_message_length=100)
    try:
        for chunk in chunks:
            for msg_type, raw in reader.feed(chunk):
                assert raw[0] == msg_type and len(raw) == 4 + int.from_bytes(raw[1:4], "big")
    except TLSError:
        pass


# ---------------------------------------------------------------------------------------
# regenerating the stored vectors
# ---------------------------------------------------------------------------------------


def write_vectors(directory: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as pki:
        material = make_material(Path(pki))
        capture = run_handshake(material, Scenario("vectors", "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA256"))
    (directory / "openssl3_client_hello.bin").write_bytes(capture.client_messages[0][1])
    server_flight = b"".join(
        raw for msg_type, raw in capture.server_messages if msg_type != HandshakeType.NEW_SESSION_TICKET
    )
    (directory / "openssl3_server_flight_ecdhe_rsa.bin").write_bytes(server_flight)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-vectors"]:
        VECTORS.mkdir(parents=True, exist_ok=True)
        write_vectors(VECTORS)
        print(f"wrote {sorted(path.name for path in VECTORS.glob('*.bin'))}")
