"""Helpers the tests share about real peers: polling, DH groups seen on the wire, and OpenSSL
without extended master secret (RFC 7627)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from httpslab.capture import cleartext_handshake_messages
from httpslab.crypto.keyexchange import FFDHE2048, MODP2048
from httpslab.enums import HandshakeType
from httpslab.wire import Buffer

DEFAULT_TIMEOUT = 10.0

#: an OpenSSL configuration that turns extended master secret off (RFC 7627) for the
#: ``openssl`` commands, which have no ``-no_ems`` option; see :func:`no_ems_environment`
NO_EMS_OPENSSL_CONF = """\
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
"""


def no_ems_environment(directory: str | os.PathLike[str]) -> dict[str, str]:
    """This process's environment with ``OPENSSL_CONF`` pointing at :data:`NO_EMS_OPENSSL_CONF`
    (written into ``directory``): pass it as ``env=`` to ``openssl_s_server`` or
    ``openssl_s_client`` for a session without extended master secret."""
    conf = Path(directory) / "no-ems.cnf"
    conf.write_text(NO_EMS_OPENSSL_CONF, encoding="ascii")
    return {**os.environ, "OPENSSL_CONF": str(conf)}


def dh_group_name(prime: int) -> str | None:
    """'ffdhe2048' or 'modp2048' if ``prime`` is one of them, else None."""
    for name, group in (("ffdhe2048", FFDHE2048), ("modp2048", MODP2048)):
        if group.p == prime:
            return name
    return None


def server_dh_prime(server_to_client: bytes) -> int | None:
    """The prime p of a DHE ServerKeyExchange (RFC 5246 §7.4.3), or None if there is none."""
    for msg_type, body in cleartext_handshake_messages(server_to_client):
        if msg_type == HandshakeType.SERVER_KEY_EXCHANGE:
            return int.from_bytes(Buffer(body).pull_opaque(2), "big")  # dh_p<1..2^16-1>
    return None


def wait_for(condition: Any, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.02) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = bool(condition())
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
