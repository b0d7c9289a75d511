"""The Binder configuration (``binder/``): pinned learner stack, repo2docker, a fresh venv runs every notebook.

Three kinds of check, from cheap to slow:

- the files themselves: every requirement pinned, the package installed from the repository,
  no instructor or test tools, pins that satisfy pyproject.toml, a Python that satisfies
  ``requires-python``; every notebook's first cell says what to install when httpslab is missing;
- ``repo2docker --no-build`` accepts the repository (skipped where repo2docker is not
  installed, unless ``HTTPSLAB_REQUIRE_REPO2DOCKER=1``, as in CI);
- ``slow``: a fresh virtual environment built from ``binder/requirements.txt`` alone executes
  every notebook (one venv per test session; deselect locally with ``-m "not slow"``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from environment import interpreter_tool
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

#: tools a learner does not need; they must stay out of the Binder image
NOT_FOR_LEARNERS = {
    "nbgrader",
    "pytest",
    "pytest-timeout",
    "pytest-benchmark",
    "hypothesis",
    "nbval",
    "ruff",
    "playwright",
    "tlslite-ng",
    "jupyter-repo2docker",
}


def requirement_lines() -> list[str]:
    lines = []
    for raw in (BINDER / "requirements.txt").read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def pinned_requirements() -> dict[str, Requirement]:
    pins = {}
    for line in requirement_lines():
        if line in ("-e .", "."):
            continue
        requirement = Requirement(line)
        pins[canonicalize_name(requirement.name)] = requirement
    return pins


def test_every_requirement_is_pinned_to_one_version() -> None:
    for line in requirement_lines():
        if line in ("-e .", "."):
            continue
        assert not line.startswith("-"), f"unexpected pip option in binder/requirements.txt: {line!r}"
        specifiers = list(Requirement(line).specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"not pinned with ==: {line!r}"


def test_the_package_itself_is_installed_from_the_repository() -> None:
    local = [line for line in requirement_lines() if line in ("-e .", ".")]
    assert local == ["-e ."], "binder/requirements.txt must install httpslab from the repository root once"


def test_no_instructor_or_test_tools_in_the_learner_stack() -> None:
    assert not set(pinned_requirements()) & {canonicalize_name(n) for n in NOT_FOR_LEARNERS}


def test_pins_cover_and_satisfy_the_package_and_its_notebook_extra() -> None:
    """Every dependency of httpslab[notebook] is pinned, to a version pyproject.toml accepts."""
    pins = pinned_requirements()
    wanted = [
        *PYPROJECT["project"]["dependencies"],
        *PYPROJECT["project"]["optional-dependencies"]["notebook"],
    ]
    for spec in wanted:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"{requirement.name} (from pyproject.toml) is not pinned in binder/requirements.txt"
        )
        pinned_version = next(iter(pins[name].specifier)).version
        assert requirement.specifier.contains(pinned_version), (
            f"binder pins {requirement.name}=={pinned_version}, but pyproject.toml wants {requirement.specifier}"
        )


def test_runtime_python_satisfies_requires_python() -> None:
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"binder/runtime.txt should read python-X.Y, not {runtime!r}"
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert requires.contains(Version(match.group(1)))


def test_post_build_if_any_is_executable() -> None:
    post_build = BINDER / "postBuild"
    if post_build.exists():
        assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"


# --- the learner who opens a notebook without httpslab installed --------------------------------

HIDE_HTTPSLAB = """
import sys
class HideHttpslab:
    def find_spec(self, name, path=None, target=None):
        if name.partition('.')[0] == 'httpslab':
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, HideHttpslab())
for name in [m for m in sys.modules if m.partition('.')[0] == 'httpslab']:
    del sys.modules[name]
"""


def first_code_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return next("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_first_cell_says_what_to_install_when_httpslab_is_missing(notebook: Path) -> None:
    """Run the notebook's first cell where httpslab cannot be imported: it must name the pip command."""
    source = first_code_cell(notebook)
    result = subprocess.run(
        [sys.executable, "-c", HIDE_HTTPSLAB + source],
        capture_output=True,
        text=True,
        cwd=notebook.parent,
        timeout=120,
    )
    said = result.stdout + result.stderr
    assert result.returncode != 0, f"{notebook.name}: the first cell went on without httpslab"
    assert "pip install" in said, f"{notebook.name}: the first cell does not say what to install:\n{said}"
    last_line = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    assert not last_line.startswith("ModuleNotFoundError"), f"{notebook.name}: a bare import error:\n{said}"


# --- repo2docker ------------------------------------------------------------------------------------


def required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def test_repo2docker_accepts_the_repository(tmp_path: Path) -> None:
    # the [test] extra installs it beside this interpreter; one elsewhere on PATH does not count
    repo2docker = interpreter_tool("repo2docker")
    if repo2docker is None:
        message = f"repo2docker is not installed in {sys.prefix} (pip install -e '.[test]')"
        if required("HTTPSLAB_REQUIRE_REPO2DOCKER"):
            pytest.fail(message + "; HTTPSLAB_REQUIRE_REPO2DOCKER=1 says it must run here")
        pytest.skip(message)
    result = subprocess.run(
        [str(repo2docker), "--no-build", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    dockerfile = result.stdout + result.stderr
    assert result.returncode == 0, dockerfile[-3000:]
    assert "python=3.11" in dockerfile  # binder/runtime.txt was read
    assert re.search(r"apt-get install .*\bopenssl\b", dockerfile)  # binder/apt.txt was read
    copy_repo = dockerfile.find("COPY --chown=0:0 src/ ${REPO_DIR}/")
    pip_install = dockerfile.find('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy_repo != -1 and pip_install != -1, dockerfile[-3000:]
    # "-e ." needs the repository in the image before pip runs
    assert copy_repo < pip_install


# --- a fresh virtual environment from binder/requirements.txt alone ------------------------------


def isolated_env(venv: Path, jupyter_home: Path) -> dict[str, str]:
    """The environment of a learner who only has this venv: its bin first, no outside Jupyter config."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "VIRTUAL_ENV", "PIP_"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        JUPYTER_CONFIG_DIR=str(jupyter_home / "config"),
        JUPYTER_DATA_DIR=str(jupyter_home / "data"),
        JUPYTER_RUNTIME_DIR=str(jupyter_home / "runtime"),
        IPYTHONDIR=str(jupyter_home / "ipython"),
        MPLBACKEND="Agg",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


@pytest.fixture(scope="session")
def binder_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A virtual environment with nothing but ``pip install -r binder/requirements.txt`` in it."""
    root = tmp_path_factory.mktemp("binder-venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = isolated_env(venv, root / "jupyter")
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=REPO,  # as repo2docker does: "-e ." is the repository root
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert install.returncode == 0, (
        f"pip install -r binder/requirements.txt failed:\n{install.stderr[-4000:]}"
    )
    yield venv, env


def execute_notebook(venv: Path, env: dict[str, str], notebook: Path, output_dir: Path) -> Path:
    result = subprocess.run(
        [
            str(venv / "bin" / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "--ExecutePreprocessor.kernel_name=python3",
            # once the last cell has run, stop the kernel at once (no graceful-shutdown waits)
            "--ExecutePreprocessor.shutdown_kernel=immediate",
            "--output-dir",
            str(output_dir),
            str(notebook),
        ],
        cwd=notebook.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{notebook.name} failed in the Binder venv:\n{result.stderr[-6000:]}"
    return output_dir / notebook.name


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_binder_venv_kernel_is_the_venv(binder_venv: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """The kernel nbconvert starts is the venv's Python, and it imports httpslab from this repository."""
    import nbformat

    venv, env = binder_venv
    probe = tmp_path / "probe.ipynb"
    code = "import sys, httpslab, ipywidgets, matplotlib\nprint(sys.prefix)\nprint(httpslab.__file__)"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, probe)
    executed = nbformat.read(execute_notebook(venv, env, probe, tmp_path / "out"), as_version=4)
    prefix, package_file = executed.cells[0].outputs[0]["text"].split()
    assert Path(prefix).resolve() == venv.resolve()
    assert Path(package_file).resolve().is_relative_to(REPO)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_in_a_fresh_binder_venv(
    binder_venv: tuple[Path, dict[str, str]], notebook: Path, tmp_path: Path
) -> None:
    import nbformat

    venv, env = binder_venv
    executed = nbformat.read(execute_notebook(venv, env, notebook, tmp_path), as_version=4)
    errors = [
        output
        for cell in executed.cells
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{notebook.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"


# --- the README: commands, notebook list, Binder badges ------------------------------------------

README = (REPO / "README.md").read_text()
BINDER_LINK = re.compile(
    r"https://mybinder\.org/v2/gh/(?P<repo>[\w.-]+/[\w.-]+)/(?P<branch>[\w.-]+)"
    r"\?urlpath=lab/tree/notebooks/(?P<notebook>[\w.-]+\.ipynb)\)"
)


def fenced_block_after(marker: str) -> str:
    """The first fenced code block after *marker* (what .ci/run extracts for the test command)."""
    after = README[README.index(marker) + len(marker) :]
    match = re.search(r"^```[a-z]*\n(.*?)^```", after, re.DOTALL | re.MULTILINE)
    assert match, f"no fenced block after {marker!r}"
    return match.group(1).strip()


def test_readme_test_command_installs_the_browser_extra_and_runs_pytest() -> None:
    command = fenced_block_after("<!-- test-command -->")
    assert '-e ".[test,browser]"' in command
    assert command.endswith(".venv/bin/python -m pytest")


def test_readme_first_command_opens_jupyterlab_through_the_launcher() -> None:
    first = fenced_block_after("## Two commands")
    assert '.venv/bin/pip install -e ".[notebook]"' in first
    assert first.endswith(".venv/bin/python -m httpslab.launch")


def test_readme_lists_every_notebook_with_a_binder_badge() -> None:
    links = list(BINDER_LINK.finditer(README))
    linked = [link["notebook"] for link in links]
    on_disk = [notebook.name for notebook in NOTEBOOKS]
    # the badge at the top opens notebook 00; then one per notebook in the table, in order
    assert linked[0] == "00_https_at_a_glance.ipynb"
    assert linked[1:] == on_disk, "the README's notebook table and notebooks/ disagree"
    assert {(link["repo"], link["branch"]) for link in links} == {("httpslab/httpslab", "main")}
    for name in on_disk:
        assert f"](notebooks/{name})" in README, f"{name} has no line in the README's table"


def test_readme_picture_is_there() -> None:
    picture = REPO / "docs" / "img" / "handshake_ladder.png"
    assert "](docs/img/handshake_ladder.png)" in README
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readme_points_at_the_labs_and_the_benchmarks() -> None:
    assert "(notebooks/labs/README.md)" in README and (REPO / "notebooks" / "labs").is_dir()
    for script in re.findall(r"benchmarks/(bench_\w+\.py)", README):
        assert (REPO / "benchmarks" / script).is_file(), script
