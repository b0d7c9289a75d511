"""The client side of a TLS 1.2 handshake (RFC 5246 §7.3): ClientConnection."""

from __future__ import annotations

from collections.abc import Mapping
from secrets import token_bytes
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..crypto import keyexchange
from ..crypto.signatures import choose_scheme, key_kind, sign, verify_signature
from ..crypto.suites import suite_info
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
    ServerNameExtension,
    SignatureAlgorithmsExtension,
    SupportedGroupsExtension,
)
from .base import Handler, TLSConnection, draw_ecdhe_private_key
from .config import (
    EC_GROUPS,
    TLS12,
    Credential,
    TLSConfig,
    certificate_curve_offered,
)
from .tables import Role, State

__all__ = ["ClientConnection"]


class ClientConnection(TLSConnection):
    """The client side of a TLS 1.2 handshake (RFC 5246 §7.3)."""

    role: ClassVar[Role] = "client"

    def __init__(self, config: TLSConfig | None = None) -> None:
        super().__init__(config)
        self._offered_suites: tuple[CipherSuite, ...] = ()
        self._offered_extensions: set[int] = set()
        self._server_public_key: Any = None
        self._certificate_request: CertificateRequest | None = None
        self._ephemeral: Any = None
        self._client_hello: ClientHello | None = None
        self._key_exchange_result: tuple[bytes, bytes] | None = None
        self.server_name = self.config.server_name

    def start_handshake(self) -> None:
        """Queue the ClientHello."""
        if self.state is not State.START:
            raise LocalProtocolError("the handshake was already started")
        config = self.config
        self.client_random = self._random(32) or token_bytes(32)
        suites: list[int] = list(config.cipher_suites)
        extensions: list[Any] = []
        name = config.server_name
        if name is not None and not config.server_name_is_ip:
            # RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
            extensions.append(ServerNameExtension.for_host(name.rstrip(".")))
        if any(suite_info(s).key_exchange == "ECDHE" for s in config.cipher_suites):
            extensions.append(ECPointFormatsExtension((ECPointFormat.UNCOMPRESSED,)))
        if config.groups:
            extensions.append(SupportedGroupsExtension(tuple(config.groups)))
        if config.encrypt_then_mac:
            extensions.append(EncryptThenMacExtension())
        if config.extended_master_secret:
            extensions.append(ExtendedMasterSecretExtension())
        extensions.append(SignatureAlgorithmsExtension(tuple(config.signature_schemes)))
        if config.renegotiation_scsv:
            suites.append(CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
        else:
            extensions.append(RenegotiationInfoExtension(b""))
        if config.alpn_protocols:
            extensions.append(ALPNExtension(tuple(config.alpn_protocols)))
        hello = ClientHello(random=self.client_random, cipher_suites=suites, extensions=extensions)
        self._client_hello = hello
        self._offered_suites = tuple(config.cipher_suites)
        self._offered_extensions = {int(e.type) for e in extensions}
        self.transcript.secrets.client_random = self.client_random
        self._send_handshake(hello)
        self.state = State.WAIT_HELLO

    # -- handlers (names follow HandshakeType: _on_<type>) -------------------------------
    def _on_server_hello(self, hello: ServerHello, _: bytes) -> State:
        if hello.legacy_version != TLS12:
            raise RemoteProtocolError(
                f"the server chose version {hello.legacy_version!r}; httpslab speaks TLS 1.2 only",
                alert=AlertDescription.PROTOCOL_VERSION,
            )
        if hello.cipher_suite not in self._offered_suites:
            # RFC 5246 §7.4.1.3: "cipher_suite: The single cipher suite selected by the server
            # from the list in ClientHello.cipher_suites."
            raise IllegalParameter(
                f"the server chose cipher suite {hello.cipher_suite!r}, which the client did not offer"
            )
        if hello.compression_method != 0:
            raise IllegalParameter("the server chose a compression method the client did not offer")
        for extension in hello.extensions or ():
            if int(extension.type) not in self._offered_extensions:
                # RFC 5246 §7.4.1.4: an extension the client did not ask for -> unsupported_extension
                raise RemoteProtocolError(
                    f"the server answered extension {extension.type!r}, which the client did not offer",
                    alert=AlertDescription.UNSUPPORTED_EXTENSION,
                )
        renegotiation_info = hello.renegotiation_info
        if renegotiation_info is None:
            if self.config.require_secure_renegotiation:
                # RFC 5746 §4.1 lets a client refuse a server that may be open to renegotiation attacks.
                raise HandshakeFailure(
                    "the server did not answer renegotiation_info (RFC 5746): it may be open to "
                    "renegotiation attacks, and OpenSSL 3 refuses such servers too"
                )
        elif renegotiation_info:
            raise HandshakeFailure("renegotiation_info must be empty in an initial handshake (RFC 5746 §3.4)")
        formats = hello.ec_point_formats
        if formats is not None and ECPointFormat.UNCOMPRESSED not in formats:
            raise IllegalParameter("the server's ec_point_formats lack uncompressed (RFC 8422 §5.2)")
        self.alpn_protocol = self._selected_protocol(hello)
        self.suite = suite_info(hello.cipher_suite)
        self.version = TLS12
        self.server_random = hello.random
        self.extended_master_secret = self.config.extended_master_secret and hello.extended_master_secret
        # RFC 7366 §3: encrypt-then-MAC applies only to CBC suites
        self.encrypt_then_mac = (
            self.config.encrypt_then_mac and hello.encrypt_then_mac and not self.suite.is_aead
        )
        secrets = self.transcript.secrets
        secrets.server_random = hello.random
        secrets.cipher_suite = self.suite.suite
        secrets.extended_master_secret = self.extended_master_secret
        secrets.encrypt_then_mac = self.encrypt_then_mac
        self._records.expected_version = int(TLS12)  # from now on every record (RFC 5246 Appendix E.1)
        return State.WAIT_CERTIFICATE

    def _selected_protocol(self, hello: ServerHello) -> bytes | None:
        """The server's ALPN answer: one protocol of those offered (RFC 7301 §3.1), or None.

        Anything else is decode_error, as OpenSSL answers it (docs/openssl-parity.md).
        """
        selected = hello.alpn_protocols
        if selected is None:
            return None
        if len(selected) != 1:
            # RFC 7301 §3.1: the server's "ProtocolNameList" MUST contain exactly one name
            raise DecodeError(f"the server's ALPN answer names {len(selected)} protocols, not one")
        if selected[0] not in self.config.alpn_protocols:
            raise DecodeError(f"the server selected ALPN protocol {selected[0]!r}, which was not offered")
        return selected[0]

    def _on_certificate(self, message: Certificate, _: bytes) -> State:
        assert self.suite is not None
        if not message.certificate_list:
            raise HandshakeFailure("the server sent an empty Certificate message")
        chain = self._parse_certificates(message)
        self.peer_certificates = tuple(chain)
        public_key = self._leaf_public_key(chain[0])
        kind = key_kind(public_key)
        if kind != self.suite.authentication:
            # RFC 5246 §7.4.2: the certificate type MUST be appropriate for the suite
            raise IllegalParameter(
                f"{self.suite.name} needs an {self.suite.authentication} certificate; the server sent "
                f"{'an' if kind else 'a'} {kind or type(public_key).__name__} one"
            )
        self._verify_peer_chain(chain, "server")
        self._server_public_key = public_key
        return State.WAIT_KEY_EXCHANGE if self.suite.forward_secret else State.WAIT_CERTIFICATE_REQUEST

    def _on_server_key_exchange(self, message: ServerKeyExchange, _: bytes) -> State:
        assert self.suite is not None and self.client_random and self.server_random
        offered = self.config.signature_schemes
        if message.scheme not in offered:
            raise IllegalParameter(
                f"the server signed with {message.scheme!r}, which the client did not offer"
            )
        self._check_certificate_curve()
        verify_signature(
            self._server_public_key,
            message.scheme,
            message.signature,
            message.signed_content(self.client_random, self.server_random),
            "ServerKeyExchange",
        )
        params = message.params
        if isinstance(params, ServerDHParams):
            group = keyexchange.group_from_params(
                int.from_bytes(params.dh_p, "big"), int.from_bytes(params.dh_g, "big")
            )
            if group.bits < self.config.minimum_dh_bits:
                raise HandshakeFailure(
                    f"the server's DH group has {group.bits} bits; at least {self.config.minimum_dh_bits} required"
                )
            server_public = int.from_bytes(params.dh_Ys, "big")
            private = keyexchange.dh_generate_private(group, self._random(group.byte_length))
            self._ephemeral = private
            function = self.config.primitives.dh_shared_secret or keyexchange.dh_shared_secret
            premaster = bytes(function(group, private, server_public))
            public_value = keyexchange.int_to_bytes(keyexchange.dh_public(group, private))
        else:
            assert isinstance(params, ServerECDHParams)
            curve = params.named_curve
            if curve not in self.config.groups or curve not in EC_GROUPS:
                raise IllegalParameter(f"the server chose curve {curve!r}, which the client did not offer")
            private_key = draw_ecdhe_private_key(NamedGroup(curve), self._random)
            self._ephemeral = private_key
            function = self.config.primitives.ecdh_shared_secret or keyexchange.ecdhe_shared_secret
            premaster = bytes(function(NamedGroup(curve), private_key, params.point))
            public_value = keyexchange.ecdhe_public_bytes(private_key)
        self._key_exchange_result = (premaster, public_value)
        return State.WAIT_CERTIFICATE_REQUEST

    def _check_certificate_curve(self) -> None:
        """RFC 8422 §5.3: an ECDSA server key "MUST employ a curve supported by the client".

        Checked with the ServerKeyExchange, before its signature (docs/openssl-parity.md).
        """
        key = self._server_public_key
        offered = self.config.groups
        if offered and not certificate_curve_offered(key, offered):
            assert isinstance(key, ec.EllipticCurvePublicKey)
            raise IllegalParameter(
                f"the server's ECDSA certificate key is on {key.curve.name}, a curve the client did "
                f"not offer in supported_groups ({', '.join(g.name.lower() for g in offered)}; RFC 8422 §5.3)"
            )

    def _on_certificate_request(self, message: CertificateRequest, _: bytes) -> State:
        self._certificate_request = message
        return State.WAIT_HELLO_DONE

    def _on_server_hello_done(self, message: ServerHelloDone, _: bytes) -> State:
        assert self.suite is not None
        credential: Credential | None = None
        scheme: SignatureScheme | None = None
        request = self._certificate_request
        if request is not None:
            credential, scheme = self._choose_client_credential(request)
            chain = credential.certificate_chain if credential else ()
            self._send_handshake(
                Certificate(tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)),
            )
        if self.suite.key_exchange == "RSA":
            premaster = keyexchange.make_rsa_premaster(0x0303, self._random(46))
            function = self.config.primitives.rsa_encrypt_premaster or keyexchange.rsa_encrypt_premaster
            exchange_keys = bytes(function(self._server_public_key, premaster))
        else:
            assert self._key_exchange_result is not None
            premaster, exchange_keys = self._key_exchange_result
        self._send_handshake(
            ClientKeyExchange(key_exchange=self.suite.key_exchange, exchange_keys=exchange_keys)
        )
        self._derive_keys(premaster)
        self._forget_ephemeral()
        if credential is not None and scheme is not None:
            # RFC 5246 §7.4.8: the signature covers handshake_messages, all of them so far.
            signature = sign(credential.private_key, scheme, bytes(self._handshake_log))
            self._send_handshake(CertificateVerify(scheme=scheme, signature=signature))
        self._send_change_cipher_spec_and_finished()
        return State.WAIT_CHANGE_CIPHER_SPEC

    def _choose_client_credential(
        self, request: CertificateRequest
    ) -> tuple[Credential | None, SignatureScheme | None]:
        type_for = {"RSA": ClientCertificateType.RSA_SIGN, "ECDSA": ClientCertificateType.ECDSA_SIGN}
        for credential in self.config.credentials:
            if type_for[credential.authentication] not in request.certificate_types:
                continue
            scheme = choose_scheme(
                credential.private_key, request.supported_signature_algorithms, self.config.signature_schemes
            )
            if scheme is not None:
                return credential, scheme
        return None, None

    def _on_finished(self, message: Finished, transcript_before: bytes) -> State:
        self._check_finished(message, transcript_before)
        self._complete()
        return State.CONNECTED

    def _forget_ephemeral(self) -> None:
        self._ephemeral = None
        self._key_exchange_result = None

    HANDLERS: ClassVar[Mapping[HandshakeType, Handler]] = {
        HandshakeType.SERVER_HELLO: _on_server_hello,
        HandshakeType.CERTIFICATE: _on_certificate,
        HandshakeType.SERVER_KEY_EXCHANGE: _on_server_key_exchange,
        HandshakeType.CERTIFICATE_REQUEST: _on_certificate_request,
        HandshakeType.SERVER_HELLO_DONE: _on_server_hello_done,
        HandshakeType.FINISHED: _on_finished,
    }
