"""The layers of ``../shared/DESIGN.md``, checked: import contracts, sizes, a core without I/O.

The import rules live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked here
with import-linter's own ``lint-imports``, from this interpreter's environment.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
from environment import interpreter_tool

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "httpslab"
#: the sans-I/O core: fed bytes and objects, never a socket, a process or a file
SANS_IO = ("connection", "messages", "record", "crypto")
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
#: calls that read or write files or ask the file system (plus a bare ``open(...)``)
FILE_CALLS = {
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "stat",
    "listdir",
    "scandir",
    "get_default_verify_paths",
    "mkdir",
    "unlink",
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold() -> None:
    lint_imports = interpreter_tool("lint-imports")
    assert lint_imports is not None, "import-linter is not installed (pip install -e '.[test]')"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_too_long(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.relative_to(REPO)} has {lines} lines"


def _long_functions(path: Path, root: Path = REPO) -> list[str]:
    """Functions over the limit with no ``# long: reason`` on the ``def`` line or the line above."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= MAX_FUNCTION_LINES:
            continue
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        around = " ".join(lines[max(first - 2, 0) : node.lineno])
        if "# long:" not in around:
            found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_too_long_without_a_reason() -> None:
    too_long = [entry for module in _modules() for entry in _long_functions(module)]
    assert not too_long, (
        f"functions over {MAX_FUNCTION_LINES} lines with no '# long: reason' beside them: {too_long}"
    )


def _file_calls(path: Path, root: Path = REPO) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        # RecordProtection.open(...) decrypts a record: only a bare open() opens a file
        bare_open = isinstance(node.func, ast.Name) and node.func.id == "open"
        if bare_open or (isinstance(node.func, ast.Attribute) and node.func.attr in FILE_CALLS):
            name = "open" if bare_open else node.func.attr  # type: ignore[union-attr]
            calls.append(f"{path.relative_to(root)}:{node.lineno} {name}()")
    return calls


def test_the_sans_io_core_opens_no_files() -> None:
    calls = [
        call
        for layer in SANS_IO
        for module in sorted((PACKAGE / layer).rglob("*.py"))
        for call in _file_calls(module)
    ]
    assert not calls, f"the sans-I/O core touches the file system: {calls}"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample.write_text(
        "from pathlib import Path\n\n\ndef read(p):\n    return Path(p).read_bytes(), protection.open(p)\n\n\n"
        f"def long():\n{body}\n\n\ndef excused():  # long: a table\n{body}\n"
    )
    assert _file_calls(sample, tmp_path) == ["sample.py:5 read_bytes()"]
    assert _long_functions(sample, tmp_path) == [f"sample.py:8 long ({MAX_FUNCTION_LINES + 1} lines)"]


def _exception_classes(path: Path) -> list[str]:
    """Classes in *path* whose bases name an Error, Exception or Timeout."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            if any(base.endswith(("Error", "Exception", "Timeout")) for base in bases):
                found.append(node.name)
    return found


def test_every_error_class_lives_in_errors_and_is_exported() -> None:
    import httpslab
    from httpslab import errors

    elsewhere = [
        f"{module.relative_to(REPO)}: {name}"
        for module in _modules()
        if module.name != "errors.py"
        for name in _exception_classes(module)
    ]
    assert not elsewhere, f"error classes outside httpslab/errors.py: {elsewhere}"
    defined = _exception_classes(PACKAGE / "errors.py")
    assert defined and set(defined) <= set(errors.__all__)
    assert not set(defined) - set(httpslab.__all__), "errors missing from httpslab's exports"
