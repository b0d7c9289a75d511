"""httpslab.io loads trust anchors and credentials from disk; the sans-I/O core never does."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import httpslab
from httpslab.errors import CertificateError
from httpslab.io import _pem_certificates, load_credential, load_trust_anchors
from httpslab.pki.ca import DemoPKI

CORE = Path(httpslab.__file__).parent
#: modules that would let the core do I/O (DESIGN.md: only io.py and relay.py touch sockets and files)
IO_MODULES = {"socket", "ssl", "subprocess", "os", "pathlib", "shutil", "tempfile", "io"}


@pytest.mark.parametrize("package", ["connection", "crypto"])
def test_the_core_imports_no_io_module_and_opens_no_file(package: str) -> None:
    for path in sorted((CORE / package).glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                names = []
            for name in names:
                assert name.split(".")[0] not in IO_MODULES, f"{path.name} imports {name}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} opens a file"


def test_trust_anchors_from_a_pem_file_are_parsed_once_per_version(tmp_path: Path) -> None:
    pki = DemoPKI("ecdsa")
    first = tmp_path / "ca.pem"
    first.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    _pem_certificates.cache_clear()
    assert load_trust_anchors(first) == (pki.root,)
    assert load_trust_anchors(first)[0] is load_trust_anchors(first)[0]  # the same parsed object
    assert _pem_certificates.cache_info().hits == 2
    other = DemoPKI("rsa").root
    first.write_bytes(first.read_bytes() + other.public_bytes(serialization.Encoding.PEM))
    status = first.stat()
    os.utime(first, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    assert load_trust_anchors(first) == (pki.root, other)  # a new version of the file is read again
    assert load_trust_anchors(first, anchors=[other]) == (other, pki.root, other)


def test_unreadable_files_are_certificate_errors(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="cannot read trust anchors"):
        load_trust_anchors(tmp_path / "missing.pem")
    with pytest.raises(CertificateError, match="cannot load"):
        load_credential(tmp_path / "missing.pem", tmp_path / "missing.key")


def test_load_credential_reads_a_chain_and_its_key(tmp_path: Path) -> None:
    files = DemoPKI("rsa").write_pem_files(tmp_path)
    credential = load_credential(files.client_chain_file, files.client_key_file)
    assert credential.authentication == "RSA" and len(credential.certificate_chain) >= 1
