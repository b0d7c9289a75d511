"""The server side of a TLS 1.2 handshake (RFC 5246 §7.3): ServerConnection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from secrets import token_bytes
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..crypto import keyexchange
from ..crypto.signatures import DEFAULT_PEER_SCHEMES, choose_scheme, key_kind, sign, verify_signature
from ..crypto.suites import SuiteInfo, suite_info
from ..enums import (
    AlertDescription,
    CipherSuite,
    ClientCertificateType,
    ECPointFormat,
    HandshakeType,
    NamedGroup,
    SignatureScheme,
)
from ..errors import (
    DecodeError,
    HandshakeFailure,
    IllegalParameter,
    LocalProtocolError,
    RemoteProtocolError,
)
from ..messages import (
    ALPNExtension,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    ECPointFormatsExtension,
    EncryptThenMacExtension,
    ExtendedMasterSecretExtension,
    Finished,
    RenegotiationInfoExtension,
    ServerDHParams,
    ServerECDHParams,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
)
from .base import Handler, TLSConnection, code_name, draw_ecdhe_private_key
from .config import (
    EC_GROUPS,
    FFDHE_GROUPS,
    TLS12,
    Credential,
    TLSConfig,
    certificate_curve_offered,
)
from .tables import Role, State

__all__ = ["ServerConnection"]


class ServerConnection(TLSConnection):
    """The server side of a TLS 1.2 handshake (RFC 5246 §7.3)."""

    role: ClassVar[Role] = "server"

    def __init__(self, config: TLSConfig | None = None) -> None:
        super().__init__(config)
        if not self.config.credentials:
            raise LocalProtocolError("a server needs at least one Credential (certificate and key)")
        self.state = State.WAIT_HELLO
        self._credential: Credential | None = None
        self._client_hello: ClientHello | None = None
        self._ephemeral: Any = None
        self._dh_group: keyexchange.DHGroup | None = None
        self._ecdh_group: NamedGroup | None = None
        self._client_public_key: Any = None
        self._requested_schemes: tuple[SignatureScheme, ...] = ()

    def _on_client_hello(self, hello: ClientHello, _: bytes) -> State:
        config = self.config
        if hello.legacy_version < TLS12:
            # RFC 5246 Appendix E.1: a server that cannot speak the client's version
            raise RemoteProtocolError(
                f"the client offers at most {hello.legacy_version!r}; this server speaks TLS 1.2 only",
                alert=AlertDescription.PROTOCOL_VERSION,
            )
        if 0 not in hello.compression_methods:
            raise DecodeError(
                "the ClientHello does not offer the null compression method (RFC 5246 §7.4.1.2)"
            )
        renegotiation_info = hello.renegotiation_info
        if renegotiation_info:
            raise HandshakeFailure("renegotiation_info must be empty in an initial handshake (RFC 5746 §3.6)")
        secure_renegotiation = (
            renegotiation_info is not None
            or CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV in hello.cipher_suites
        )
        formats = hello.ec_point_formats
        if formats is not None and ECPointFormat.UNCOMPRESSED not in formats:
            raise IllegalParameter("the client's ec_point_formats lack uncompressed (RFC 8422 §5.1.2)")
        peer_schemes = hello.signature_algorithms or DEFAULT_PEER_SCHEMES
        suite, credential, scheme = self._choose_suite(hello, peer_schemes)
        self.alpn_protocol = self._select_protocol(hello.alpn_protocols)
        self._client_hello = hello
        self._credential = credential
        self.suite = suite
        self.version = TLS12
        self.client_random = hello.random
        self.server_random = self._random(32) or token_bytes(32)
        self.server_name = hello.server_name
        self._records.expected_version = int(TLS12)  # from now on every record (RFC 5246 Appendix E.1)
        self.extended_master_secret = config.extended_master_secret and hello.extended_master_secret
        self.encrypt_then_mac = config.encrypt_then_mac and hello.encrypt_then_mac and not suite.is_aead
        secrets = self.transcript.secrets
        secrets.client_random, secrets.server_random = self.client_random, self.server_random
        secrets.cipher_suite = suite.suite
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac

        extensions: list[Any] = []
        if secure_renegotiation:
            extensions.append(RenegotiationInfoExtension(b""))
        if suite.key_exchange == "ECDHE" and formats is not None:
            extensions.append(ECPointFormatsExtension((ECPointFormat.UNCOMPRESSED,)))
        if self.encrypt_then_mac:
            extensions.append(EncryptThenMacExtension())
        if self.extended_master_secret:
            extensions.append(ExtendedMasterSecretExtension())
        if self.alpn_protocol is not None:
            extensions.append(ALPNExtension((self.alpn_protocol,)))
        self._send_handshake(
            ServerHello(random=self.server_random, cipher_suite=suite.suite, extensions=extensions)
        )
        self._send_handshake(
            Certificate(
                tuple(c.public_bytes(serialization.Encoding.DER) for c in credential.certificate_chain)
            )
        )
        if suite.forward_secret:
            assert scheme is not None
            self._send_server_key_exchange(scheme)
        if config.request_client_certificate:
            self._requested_schemes = tuple(config.signature_schemes)
            self._send_handshake(
                CertificateRequest(
                    certificate_types=(ClientCertificateType.RSA_SIGN, ClientCertificateType.ECDSA_SIGN),
                    supported_signature_algorithms=self._requested_schemes,
                    certificate_authorities=(),
                )
            )
        self._send_handshake(ServerHelloDone())
        return State.WAIT_CERTIFICATE if config.request_client_certificate else State.WAIT_KEY_EXCHANGE

    def _select_protocol(self, offered: Sequence[bytes] | None) -> bytes | None:
        """The server's first ALPN protocol the client offered (RFC 7301 §3.2), or None.

        None when either side has no ALPN list; with lists but nothing in common, the fatal
        no_application_protocol alert.
        """
        if not offered or not self.config.alpn_protocols:
            return None
        for protocol in self.config.alpn_protocols:
            if protocol in offered:
                return bytes(protocol)
        # RFC 7301 §3.2: "the server MUST respond with a fatal 'no_application_protocol' alert"
        raise RemoteProtocolError(
            f"no ALPN protocol in common: the client offered {list(offered)}, this server speaks "
            f"{list(self.config.alpn_protocols)}",
            alert=AlertDescription.NO_APPLICATION_PROTOCOL,
        )

    def _choose_suite(
        self, hello: ClientHello, peer_schemes: Sequence[SignatureScheme | int]
    ) -> tuple[SuiteInfo, Credential, SignatureScheme | None]:
        """The server's first suite that the client offered and that it can complete (RFC 5246 §7.4.1.3).

        A suite is skipped when no certificate, signature scheme or group fits (RFC 8422 §5.3,
        RFC 7919 §4); with none left, handshake_failure.
        """
        client_groups = hello.supported_groups
        for suite in self.config.server_cipher_suites:
            if suite not in hello.cipher_suites:
                continue
            info = suite_info(suite)
            for credential in self.config.credentials:
                if credential.authentication != info.authentication:
                    continue
                if not certificate_curve_offered(credential.private_key, client_groups):
                    continue  # RFC 8422 §5.3
                scheme = None
                if info.forward_secret:
                    scheme = choose_scheme(
                        credential.private_key, peer_schemes, self.config.server_signature_schemes
                    )
                    if scheme is None:
                        continue
                if info.key_exchange == "ECDHE":
                    group = self._choose_ec_group(client_groups)
                    if group is None:
                        continue
                    self._ecdh_group = group
                if info.key_exchange == "DHE":
                    dh_group = self._choose_dh_group(client_groups)
                    if dh_group is None:
                        continue
                    self._dh_group = dh_group
                return info, credential, scheme
        raise HandshakeFailure(
            "no shared cipher: none of the client's suites is one this server offers and can complete "
            "(a certificate on a curve the client named, a signature scheme and a group in common)"
        )

    def _choose_ec_group(self, client_groups: Sequence[NamedGroup | int] | None) -> NamedGroup | None:
        ours = [g for g in self.config.server_groups if g in EC_GROUPS]
        if client_groups is None:
            # RFC 8422 §4: without the extension the server may pick any curve; P-256 is safe.
            return NamedGroup.SECP256R1 if NamedGroup.SECP256R1 in ours or not ours else ours[0]
        for group in ours:
            if group in client_groups:
                return group
        return None

    def _choose_dh_group(
        self, client_groups: Sequence[NamedGroup | int] | None
    ) -> keyexchange.DHGroup | None:
        offered_ffdhe = [g for g in (client_groups or ()) if g in FFDHE_GROUPS or 0x0100 <= int(g) <= 0x01FF]
        if not offered_ffdhe:
            return self.config.dh_group  # RFC 7919 §4: a client that names no FFDHE group
        for group in self.config.server_groups:
            if group in FFDHE_GROUPS and group in offered_ffdhe:
                return keyexchange.dh_group(group)
        return None  # RFC 7919 §4: do not pick a DHE suite then

    def _send_server_key_exchange(self, scheme: SignatureScheme) -> None:
        assert self.suite is not None and self._credential is not None
        params: ServerDHParams | ServerECDHParams
        if self.suite.key_exchange == "DHE":
            group = self._dh_group
            assert group is not None
            private = keyexchange.dh_generate_private(group, self._random(group.byte_length))
            self._ephemeral = private
            params = ServerDHParams(
                dh_p=keyexchange.int_to_bytes(group.p),
                dh_g=keyexchange.int_to_bytes(group.g),
                dh_Ys=keyexchange.int_to_bytes(keyexchange.dh_public(group, private)),
            )
        else:
            curve = self._ecdh_group
            assert curve is not None
            private_key = draw_ecdhe_private_key(curve, self._random)
            self._ephemeral = private_key
            params = ServerECDHParams(named_curve=curve, point=keyexchange.ecdhe_public_bytes(private_key))
        unsigned = ServerKeyExchange(params=params, scheme=scheme, signature=b"")
        assert self.client_random and self.server_random
        signature = sign(
            self._credential.private_key,
            scheme,
            unsigned.signed_content(self.client_random, self.server_random),
        )
        self._send_handshake(ServerKeyExchange(params=params, scheme=scheme, signature=signature))

    def _on_certificate(self, message: Certificate, _: bytes) -> State:
        if not message.certificate_list:
            if self.config.require_client_certificate:
                # RFC 5246 §7.4.6 lets the server end the handshake: handshake_failure in TLS 1.2
                raise HandshakeFailure("the client did not send a certificate, and this server requires one")
            return State.WAIT_KEY_EXCHANGE
        chain = self._parse_certificates(message)
        if key_kind(self._leaf_public_key(chain[0])) is None:
            raise RemoteProtocolError(
                "the client's certificate key is neither RSA nor ECDSA",
                alert=AlertDescription.UNSUPPORTED_CERTIFICATE,
            )
        self._verify_peer_chain(chain, "client")
        self.peer_certificates = tuple(chain)
        self._client_public_key = chain[0].public_key()
        return State.WAIT_KEY_EXCHANGE

    def _on_client_key_exchange(self, message: ClientKeyExchange, _: bytes) -> State:
        assert self.suite is not None and self._credential is not None and self._client_hello is not None
        primitives = self.config.primitives
        if self.suite.key_exchange == "RSA":
            function = primitives.rsa_decrypt_premaster or keyexchange.rsa_decrypt_premaster
            # RFC 5246 §7.4.7.1: compare with the version the client *offered*.
            premaster = bytes(
                function(
                    self._credential.private_key,
                    message.exchange_keys,
                    int(self._client_hello.legacy_version),
                )  # type: ignore[arg-type]
            )
        elif self.suite.key_exchange == "DHE":
            assert self._dh_group is not None
            function = primitives.dh_shared_secret or keyexchange.dh_shared_secret
            premaster = bytes(
                function(self._dh_group, self._ephemeral, int.from_bytes(message.exchange_keys, "big"))
            )
        else:
            assert self._ecdh_group is not None
            function = primitives.ecdh_shared_secret or keyexchange.ecdhe_shared_secret
            premaster = bytes(function(self._ecdh_group, self._ephemeral, message.exchange_keys))
        self._forget_ephemeral()
        self._derive_keys(premaster)
        return (
            State.WAIT_CERTIFICATE_VERIFY
            if self._client_public_key is not None
            else State.WAIT_CHANGE_CIPHER_SPEC
        )

    def _on_certificate_verify(self, message: CertificateVerify, transcript_before: bytes) -> State:
        self._check_client_certificate_curve()
        if message.scheme not in self._requested_schemes:
            raise IllegalParameter(
                f"the client signed with {message.scheme!r}, which the server did not ask for"
            )
        verify_signature(
            self._client_public_key, message.scheme, message.signature, transcript_before, "CertificateVerify"
        )
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _check_client_certificate_curve(self) -> None:
        """The client's ECDSA key must be on a curve both sides name (RFC 8422 §5.1.1, §5.3).

        Checked with the CertificateVerify, before its signature. Default ``groups`` are checked
        as :data:`OPENSSL_DEFAULT_GROUPS` (docs/openssl-parity.md).
        """
        assert self._client_hello is not None
        key = self._client_public_key
        own_groups = self.config.server_groups
        checks = (
            (self._client_hello.supported_groups, "the client did not name in supported_groups"),
            (own_groups, "this server's groups do not include"),
        )
        for groups, failure in checks:
            if not certificate_curve_offered(key, groups):
                assert isinstance(key, ec.EllipticCurvePublicKey) and groups
                raise IllegalParameter(
                    f"the client's ECDSA certificate key is on {key.curve.name}, a curve {failure} "
                    f"({', '.join(code_name(g) for g in groups)}; RFC 8422 §5.3, OpenSSL: wrong curve)"
                )

    def _on_finished(self, message: Finished, transcript_before: bytes) -> State:
        self._check_finished(message, transcript_before)
        self._send_change_cipher_spec_and_finished()
        self._complete()
        return State.CONNECTED

    def _forget_ephemeral(self) -> None:
        self._ephemeral = None

    HANDLERS: ClassVar[Mapping[HandshakeType, Handler]] = {
        HandshakeType.CLIENT_HELLO: _on_client_hello,
        HandshakeType.CERTIFICATE: _on_certificate,
        HandshakeType.CLIENT_KEY_EXCHANGE: _on_client_key_exchange,
        HandshakeType.CERTIFICATE_VERIFY: _on_certificate_verify,
        HandshakeType.FINISHED: _on_finished,
    }
