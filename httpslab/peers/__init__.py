"""The real TLS peers the notebooks and tests run on loopback: OpenSSL (:mod:`.openssl`) and
the files it reads (:mod:`.files`)."""
