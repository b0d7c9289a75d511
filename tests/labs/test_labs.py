"""The graded labs: the real nbgrader pipeline on a temporary copy of ``notebooks/labs``.

One course directory per test session: nbgrader (in-process, through its ``NbGraderAPI``,
because every ``nbgrader`` process costs seconds to start) generates the student release from
``source/``, then autogrades, per lab and in one run, every student put directly under
``submitted/<student>/<lab>/`` (one lab with the ``nbgrader autograde`` command itself): the
solutions, the unmodified release, a submission with one planted bug, one that loops forever
and one that fails at import time. Scores are read from nbgrader's gradebook, never from
printed output.

The helpers of :mod:`httpslab.grading` (a learner's function in a real handshake with
OpenSSL) are tested directly at the end.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from environment import interpreter_tool

from httpslab.crypto import keyexchange, keyschedule
from httpslab.grading import compare_certificate_checks, run_real_handshake

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

LABS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "labs"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
#: the per-cell time limit while testing (the committed config's is larger, for a class)
TEST_CELL_TIMEOUT = 10

# One planted bug per lab: (solution cell, text, replacement, graded cells it must fail).
PLANTED_BUGS: dict[str, tuple[str, str, str, set[str]]] = {
    # the randoms in the wrong order: only the master-secret test sees it (the handshake
    # uses the learner's PRF, not this function)
    "lab1_prf": (
        "lab1_key_block",
        "client_random + server_random, 48",
        "server_random + client_random, 48",
        {"lab1_test_master_secret"},
    ),
    # an unpad that says *why*: only the hidden padding-oracle test sees it
    "lab2_rsa": (
        "lab2_unpad",
        'separator = block.find(b"\\x00", 2)',
        'if block[:1] != b"\\x00":\n        raise ValueError("the first byte is not 00")\n'
        '    separator = block.find(b"\\x00", 2)',
        {"lab2_test_no_oracle"},
    ),
    # Y = p - 1 accepted: the validation test and the shared-secret test see it
    "lab3_dh": (
        "lab3_validate",
        "1 < peer_public < p - 1",
        "1 < peer_public < p",
        {"lab3_test_validate", "lab3_test_shared_secret"},
    ),
    # the additional data counts the explicit nonce: opening fails, and so does the handshake
    "lab4_record": (
        "lab4_seal_open",
        "len(fragment) - 24)",
        "len(fragment) - 8)",
        {"lab4_test_open", "lab4_real_handshake"},
    ),
    # a wildcard that matches any number of labels
    "lab5_certificates": (
        "lab5_dns",
        "return len(host_labels) == len(pattern_labels) and host_labels[1:] == pattern_labels[1:]",
        "return host_labels[-len(pattern_labels) + 1 :] == pattern_labels[1:]",
        {"lab5_test_dns", "lab5_test_name"},
    ),
}
# A submission whose mod_exp never returns (lab 3), one whose check_leaf cell fails at import.
LOOPING = (
    "lab3_dh",
    "lab3_mod_exp",
    "result = 1 % modulus",
    "while True:\n        pass\n    result = 1 % modulus",
)
LOOPING_FAILS = {"lab3_test_mod_exp", "lab3_test_shared_secret", "lab3_real_handshake"}
BROKEN_IMPORT = (
    "lab5_certificates",
    "lab5_check_leaf",
    "def check_leaf",
    "import httpslab_no_such_module\n\n\ndef check_leaf",
)
BROKEN_IMPORT_FAILS = {"lab5_test_check_leaf", "lab5_real_handshake"}


#: the lab autograded with the ``nbgrader`` command line (the others through ``NbGraderAPI``)
CLI_LAB = "lab1_prf"


def _nbgrader_command() -> str:
    found = interpreter_tool("nbgrader")
    assert found, f"nbgrader is not installed in {sys.prefix} (pip install -e '.[instructor]')"
    return str(found)


@contextlib.contextmanager
def _minimal_path(empty_dir: Path) -> Iterator[None]:
    """PATH holds one empty folder: a grading tool found only on the ambient PATH fails here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", str(empty_dir))
        yield


def _course_config(course_root: Path) -> Any:
    """The committed nbgrader_config.py, copied into *course_root* and loaded from there."""
    from traitlets.config.loader import PyFileConfigLoader

    shutil.copy(LABS_DIR / "nbgrader_config.py", course_root / "nbgrader_config.py")
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("httpslab_lab_sources", LABS_DIR / "make_sources.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


GENERATOR = _load_generator()
LAB_NAMES: list[str] = list(GENERATOR.LABS)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _nbgrader(cell: Any) -> dict[str, Any]:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def _source_cells(lab: str) -> list[Any]:
    return list(_read(LABS_DIR / "source" / lab / f"{lab}.ipynb").cells)


def _points(lab: str) -> dict[str, int]:
    """grade_id -> points of every autograded test cell of the committed source."""
    return {
        _nbgrader(c)["grade_id"]: _nbgrader(c)["points"]
        for c in _source_cells(lab)
        if _nbgrader(c).get("grade")
    }


def _without_markers(text: str, markers: tuple[str, str]) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() not in markers)


def _between_markers(text: str, markers: tuple[str, str]) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == markers[0]:
            inside = True
        elif line.strip() == markers[1]:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def _outside_markers(text: str) -> set[str]:
    lines, inside = set(), False
    for line in text.splitlines():
        if line.strip() in (SOLUTION_MARKERS[0], HIDDEN_MARKERS[0]):
            inside = True
        elif line.strip() in (SOLUTION_MARKERS[1], HIDDEN_MARKERS[1]):
            inside = False
        elif not inside:
            lines.add(line.strip())
    return lines


def _visible_code(source: str) -> list[str]:
    """The code lines of a test cell that a learner sees (before its hidden tests)."""
    visible = source.split(HIDDEN_MARKERS[0])[0]
    return [line for line in visible.splitlines() if line.strip() and not line.strip().startswith("#")]


def _stable(notebook: nbformat.NotebookNode) -> list[tuple[Any, ...]]:
    """What must not drift: each cell's id, type, source and metadata (outputs are empty)."""
    return [(c.get("id"), c.cell_type, c.source, c.metadata) for c in notebook.cells]


# ------------------------------------------------------------------------------- the course
@dataclass
class Course:
    root: Path
    api: Any
    db_url: str
    elapsed: dict[str, float] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what nbgrader logged at WARNING or above, in this process and in the ``nbgrader`` command
    log: list[str] = field(default_factory=list)

    def scores(self, lab: str, student: str) -> dict[str, float]:
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gradebook:
            notebook = gradebook.find_submission_notebook(lab, lab, student)
            return {grade.name: grade.score for grade in notebook.grades if grade.max_score > 0}


def _submission(release: nbformat.NotebookNode, lab: str, edit: tuple[str, str, str] | None) -> Any:
    """The release with every solution cell filled in from the source (maybe with one edit)."""
    solutions = {
        _nbgrader(c)["grade_id"]: _without_markers(c.source, SOLUTION_MARKERS)
        for c in _source_cells(lab)
        if _nbgrader(c).get("solution")
    }
    if edit is not None:
        grade_id, old, new = edit
        assert old in solutions[grade_id], f"the planted change does not apply to {grade_id}"
        solutions[grade_id] = solutions[grade_id].replace(old, new, 1)
    submission = copy.deepcopy(release)
    for cell in submission.cells:
        if _nbgrader(cell).get("solution"):
            cell.source = solutions[_nbgrader(cell)["grade_id"]]
    return submission


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    # the whole pipeline runs with a PATH that holds nothing: every tool nbgrader starts (alembic,
    # the kernel) must come from this interpreter's environment, as on a fresh machine
    with _minimal_path(tmp_path_factory.mktemp("empty-path")), _warnings_logged() as log:
        course = _graded_course(tmp_path_factory)
    course.log.extend(log)
    yield course


@contextlib.contextmanager
def _warnings_logged() -> Iterator[list[str]]:
    """The ``LEVEL message`` of every log record at WARNING or above while the block runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.getMessage()}")

    handler = Collect(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)


def _graded_course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    minimal_environment = dict(os.environ)  # before the course config puts its scripts on PATH
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(LABS_DIR / "source", root / "source")
    config = _course_config(root)
    config.CourseDirectory.root = str(root)
    config.Execute.timeout = TEST_CELL_TIMEOUT
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    result = Course(root, api, f"sqlite:///{root / 'gradebook.db'}")
    for lab in LAB_NAMES:
        generated = api.generate_assignment(lab, force=True, create=True)
        assert generated["success"], generated.get("error") or generated.get("log")

    students: dict[str, dict[str, tuple[str, str, str] | None]] = {"solution": {}, "release": {}, "bug": {}}
    for lab, (grade_id, old, new, _) in PLANTED_BUGS.items():
        students["solution"][lab] = None
        students["bug"][lab] = (grade_id, old, new)
    students["loops"] = {LOOPING[0]: LOOPING[1:]}
    students["broken_import"] = {BROKEN_IMPORT[0]: BROKEN_IMPORT[1:]}
    for lab in LAB_NAMES:
        release = _read(root / "release" / lab / f"{lab}.ipynb")
        for student, labs in students.items():
            if student == "release":
                notebook = release
            elif lab in labs:
                notebook = _submission(release, lab, labs[lab])
            else:
                continue
            path = root / "submitted" / student / lab / f"{lab}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
    for lab in LAB_NAMES:  # every student of a lab in one autograde run
        start = time.monotonic()
        if lab == CLI_LAB:
            # the command an instructor types, in the course directory (nbgrader reads its
            # nbgrader_config.py itself); one process costs seconds, so only for one lab
            completed = subprocess.run(
                [_nbgrader_command(), "autograde", lab, "--force", f"--Execute.timeout={TEST_CELL_TIMEOUT}"],
                cwd=root,
                env=minimal_environment,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            result.results[lab] = {"success": completed.returncode == 0, "error": completed.stderr[-3000:]}
            result.log.extend(
                line
                for line in completed.stderr.splitlines()
                if any(f"| {level}]" in line for level in ("WARNING", "ERROR", "CRITICAL"))
            )
        else:
            result.results[lab] = api.autograde(lab, "*", force=True, create=True)
        result.elapsed[lab] = time.monotonic() - start
    return result


# ----------------------------------------------------------------------- source and release
def test_committed_sources_are_what_the_generator_writes() -> None:
    for lab, cells in GENERATOR.LABS.items():
        committed = _read(LABS_DIR / "source" / lab / f"{lab}.ipynb")
        assert _stable(GENERATOR.build_notebook(lab, cells)) == _stable(committed), (
            f"source/{lab} differs from make_sources.py: run `python make_sources.py` in notebooks/labs"
        )


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_each_lab_is_complete(lab: str) -> None:
    """Instructions, a worked example, solutions, visible and hidden tests, points that add
    up, and a final graded cell that runs a real handshake."""
    cells = _source_cells(lab)
    metadata = [_nbgrader(c) for c in cells]
    graded = [c for c in cells if _nbgrader(c).get("grade")]
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# Lab")
    assert any("Worked example" in c.source for c in cells if c.cell_type == "markdown")
    assert any(m.get("solution") and not m.get("grade") for m in metadata)
    assert all(m["points"] > 0 for m in metadata if m.get("grade"))
    assert sum(1 for c in graded if HIDDEN_MARKERS[0] in c.source) >= 3
    assert sum(1 for c in graded if _visible_code(c.source)) >= 3
    total = sum(_points(lab).values())
    assert f"**Points: {total}**" in cells[0].source
    assert total == 10
    last = graded[-1]
    assert cells[-1] is last and _nbgrader(last)["grade_id"].endswith("real_handshake")
    assert "run_real_handshake(" in last.source or "compare_certificate_checks(" in last.source
    assert len({m["grade_id"] for m in metadata if m}) == len([m for m in metadata if m])


@pytest.mark.timeout(900)
@pytest.mark.parametrize("lab", LAB_NAMES)
def test_release_has_no_solution_and_no_hidden_test(course: Course, lab: str) -> None:
    release = _read(course.root / "release" / lab / f"{lab}.ipynb")
    text = "\n".join(c.source for c in release.cells)
    for marker in (*SOLUTION_MARKERS, *HIDDEN_MARKERS):
        assert marker not in text
    secret_lines, public_lines = set(), set()
    for cell in _source_cells(lab):
        secret_lines.update(_between_markers(cell.source, SOLUTION_MARKERS))
        secret_lines.update(_between_markers(cell.source, HIDDEN_MARKERS))
        public_lines.update(_outside_markers(cell.source))
    assert secret_lines
    released_lines = {line.strip() for line in text.splitlines()}
    # a line that the source also shows outside the markers may appear; no other may
    leaked = (secret_lines - public_lines) & released_lines
    assert not leaked, f"the release of {lab} shows solution or hidden-test lines: {sorted(leaked)}"
    stubs = [c.source for c in release.cells if _nbgrader(c).get("solution")]
    assert stubs and all("raise NotImplementedError()" in s for s in stubs)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("lab", LAB_NAMES)
def test_committed_release_is_what_nbgrader_generates(course: Course, lab: str) -> None:
    generated = _read(course.root / "release" / lab / f"{lab}.ipynb")
    committed = _read(LABS_DIR / "release" / lab / f"{lab}.ipynb")
    assert _stable(committed) == _stable(generated), (
        f"release/{lab} is stale: run `nbgrader generate_assignment {lab} --force` in notebooks/labs"
    )
    assert committed.metadata == generated.metadata


# ------------------------------------------------------------------------------ autograding
@pytest.mark.timeout(900)
@pytest.mark.parametrize("lab", LAB_NAMES)
def test_solutions_score_full_marks(course: Course, lab: str) -> None:
    assert course.results[lab]["success"], course.results[lab].get("error")
    assert course.scores(lab, "solution") == {name: float(p) for name, p in _points(lab).items()}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("lab", LAB_NAMES)
def test_unmodified_release_scores_zero(course: Course, lab: str) -> None:
    scores = course.scores(lab, "release")
    assert set(scores) == set(_points(lab))
    assert all(score == 0 for score in scores.values()), scores


@pytest.mark.timeout(900)
@pytest.mark.parametrize("lab", LAB_NAMES)
def test_planted_bug_loses_exactly_the_points_of_its_tests(course: Course, lab: str) -> None:
    should_fail = PLANTED_BUGS[lab][3]
    points = _points(lab)
    expected = {name: (0.0 if name in should_fail else float(p)) for name, p in points.items()}
    assert course.scores(lab, "bug") == expected
    assert sum(points.values()) - sum(course.scores(lab, "bug").values()) == sum(
        points[n] for n in should_fail
    )


@pytest.mark.timeout(900)
def test_a_looping_submission_is_cut_off_and_the_others_are_still_graded(course: Course) -> None:
    lab = LOOPING[0]
    points = _points(lab)
    assert course.scores(lab, "loops") == {
        n: (0.0 if n in LOOPING_FAILS else float(p)) for n, p in points.items()
    }
    # graded in the same run, after or before it: unaffected
    assert course.scores(lab, "solution") == {n: float(p) for n, p in points.items()}
    assert sum(course.scores(lab, "bug").values()) == sum(points.values()) - sum(
        points[n] for n in PLANTED_BUGS[lab][3]
    )
    # bounded: each looping cell is interrupted after the cell timeout; 4 notebooks in all
    assert course.elapsed[lab] < len(LOOPING_FAILS) * TEST_CELL_TIMEOUT + 4 * 45, course.elapsed


@pytest.mark.timeout(900)
def test_a_submission_failing_at_import_scores_zero_only_where_it_is_needed(course: Course) -> None:
    lab = BROKEN_IMPORT[0]
    points = _points(lab)
    assert course.scores(lab, "broken_import") == {
        n: (0.0 if n in BROKEN_IMPORT_FAILS else float(p)) for n, p in points.items()
    }
    assert course.scores(lab, "solution") == {n: float(p) for n, p in points.items()}


@pytest.mark.timeout(900)
def test_grading_logs_nothing_alarming(course: Course) -> None:
    """No CRITICAL (nbgrader's "Unwritable directory" for a missing exchange) and no config option
    nbgrader does not know. nbgrader's own "checksum ... has changed" warning for cells with
    hidden tests is known (jupyter/nbgrader#1961) and harmless: the stored cell is graded."""
    alarming = [
        line for line in course.log if "CRITICAL" in line or "Unwritable" in line or "not recognized" in line
    ]
    assert not alarming, alarming


def test_committed_config_bounds_every_cell(tmp_path: Path) -> None:
    with _minimal_path(tmp_path):
        config = _course_config(tmp_path)
    assert 0 < config.Execute.timeout <= 60
    assert config.Execute.interrupt_on_timeout is True
    assert config.CourseDirectory.course_id == "httpslab"
    # a local exchange of the course's own, created: nbgrader finds it writable
    assert Path(config.Exchange.root) == tmp_path / "exchange" and (tmp_path / "exchange").is_dir()


def test_committed_config_sets_only_options_nbgrader_knows(tmp_path: Path) -> None:
    """Every option of the course config is a trait of the nbgrader class it names, so nbgrader
    never warns "Config option ... not recognized" (as it did for db_assignments)."""
    import nbgrader.apps
    import nbgrader.coursedir
    import nbgrader.exchange.default
    import nbgrader.preprocessors
    from traitlets.config import Configurable

    with _minimal_path(tmp_path):
        config = _course_config(tmp_path)
    classes: dict[str, type[Configurable]] = {}
    for module in (nbgrader.coursedir, nbgrader.preprocessors, nbgrader.exchange.default, nbgrader.apps):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Configurable):
                classes.setdefault(value.__name__, value)
    unknown = []
    for section, options in config.items():
        known = classes.get(section)
        assert known is not None, f"nbgrader_config.py configures {section}, which nbgrader does not have"
        unknown += [f"{section}.{name}" for name in options if not known.class_traits(config=True).get(name)]
    assert not unknown, f"options nbgrader does not know: {unknown}"


def test_course_config_finds_alembic_beside_this_python(tmp_path: Path) -> None:
    """nbgrader starts ``alembic`` by name; with the course config loaded, a PATH that holds
    nothing still finds the one of this interpreter's environment (a fresh machine's case)."""
    from nbgrader.api import get_alembic_version

    empty = tmp_path / "empty"
    empty.mkdir()
    with _minimal_path(empty):
        assert shutil.which("alembic") is None
        _course_config(tmp_path)
        found = shutil.which("alembic")
        assert found is not None and Path(found).parent == Path(sysconfig.get_path("scripts"))
        assert get_alembic_version()  # the head revision nbgrader writes into a new gradebook


@pytest.mark.timeout(900)
def test_feedback_is_generated_from_the_gradebook(course: Course) -> None:
    lab = "lab2_rsa"
    result = course.api.generate_feedback(lab, "bug", force=True)
    assert result["success"], result.get("error")
    html = (course.root / "feedback" / "bug" / lab / f"{lab}.html").read_text(encoding="utf-8")
    expected = sum(_points(lab).values()) - sum(_points(lab)[n] for n in PLANTED_BUGS[lab][3])
    assert f"Score: {expected:.1f} / {sum(_points(lab).values()):.1f}" in html.replace("\n", " ")


# ------------------------------------------------------------------ httpslab.grading directly
def test_run_real_handshake_with_correct_functions_is_accepted_by_openssl() -> None:
    report = run_real_handshake(
        prf=lambda secret, label, seed, length: keyschedule.prf(secret, label, seed, length, "sha256"),
        message=b"ping",
    )
    assert report.ok and report.echoed == b"ping" and report.negotiated_suite == "ECDHE-RSA-AES128-GCM-SHA256"
    assert "OpenSSL accepted" in str(report)
    report = run_real_handshake(
        dh_shared_secret=lambda p, x, y: pow(y, x, p).to_bytes((p.bit_length() + 7) // 8)
    )
    # unstripped Z: OpenSSL strips leading zeros, so this fails about 1 time in 256 -> retry once
    if not report.ok:
        report = run_real_handshake(
            dh_shared_secret=lambda p, x, y: pow(y, x, p).to_bytes((p.bit_length() + 7) // 8)
        )
    assert report.ok and report.negotiated_suite == "DHE-RSA-AES128-GCM-SHA256"


def test_run_real_handshake_reports_openssls_alert() -> None:
    def wrong_prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
        return keyschedule.prf(secret, label, seed + b"!", length, "sha256")

    report = run_real_handshake(prf=wrong_prf)
    assert not report.ok
    assert report.negotiated_suite is None
    assert report.alert in {"bad_record_mac", "decrypt_error"}
    assert report.openssl_error and "OpenSSL said" in str(report)

    def bad_block(public_key: Any, premaster: bytes) -> bytes:  # block type 01 instead of 02
        k = (public_key.key_size + 7) // 8
        return keyexchange.rsa_textbook_encrypt(
            public_key, b"\x00\x01" + b"\xff" * (k - 51) + b"\x00" + premaster
        )

    report = run_real_handshake(rsa_encrypt_premaster=bad_block)
    assert report.suite == "AES128-GCM-SHA256" and not report.ok and report.alert is not None


def test_run_real_handshake_survives_a_crashing_learner_function() -> None:
    report = run_real_handshake(dh_shared_secret=lambda p, x, y: 1 // 0)
    assert not report.ok
    assert "ZeroDivisionError" in (report.client_error or "")
    assert report.openssl_error is not None  # OpenSSL saw the internal_error alert or the hang-up


def test_compare_certificate_checks_against_openssl() -> None:
    accept_everything = compare_certificate_checks(lambda leaf, name, at: None)
    verdicts = {c.scenario: (c.openssl_accepts, c.agrees) for c in accept_everything}
    assert verdicts["valid"] == (True, True) and verdicts["valid_ip"] == (True, True)
    for name in ("expired", "not_yet_valid", "wrong_host_name", "ip_not_in_certificate"):
        assert verdicts[name] == (False, False), name
    assert not accept_everything.all_agree
    expired = next(c for c in accept_everything if c.scenario == "expired")
    assert "expired" in expired.openssl_message

    def by_validity_only(leaf: Any, name: str, at: dt.datetime) -> str | None:
        return None if leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc else "validity"

    partial = {c.scenario: c.agrees for c in compare_certificate_checks(by_validity_only)}
    assert partial == {
        "valid": True,
        "valid_ip": True,
        "expired": True,
        "not_yet_valid": True,
        "wrong_host_name": False,
        "ip_not_in_certificate": False,
    }
