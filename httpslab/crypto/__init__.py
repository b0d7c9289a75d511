"""The crypto pieces of TLS 1.2, each a small module of pure functions over bytes.

- :mod:`~httpslab.crypto.suites`: what each cipher suite means (RFC 5246 Appendix A.5);
- :mod:`~httpslab.crypto.keyschedule`: the PRF, master secret, key block, Finished (RFC 5246 §5, §8);
- :mod:`~httpslab.crypto.keyexchange`: RSA premaster, finite-field DH, ECDHE (RFC 5246 §7.4.7);
- :mod:`~httpslab.crypto.signatures`: ``digitally-signed`` values (RFC 5246 §4.7, §7.4.1.4.1).
"""
