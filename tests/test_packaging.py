"""The package is fit to publish: licence, one version source, declared imports, lean inference.

The base install is what inference needs; ``[train]`` adds Lightning and its loggers, ``[tts-score]``
the TTS scoring packages. These tests read pyproject.toml and the sources: every third-party
import under speech/ and data_prep/ is declared, and importing the inference side (or building the
whole ``speech`` parser) loads none of the training or scoring packages.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import speech

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]

# Top-level modules of the distributions that only `[train]` or `[tts-score]` bring in.
TRAIN_ONLY = {"lightning", "pytorch_lightning", "lightning_fabric", "tensorboard", "matplotlib"}
SCORE_ONLY = {"pocketsphinx", "librosa"}
NOT_FOR_INFERENCE = TRAIN_ONLY | SCORE_ONLY


def _requirements(specs: list[str]) -> dict[str, Requirement]:
    """Requirement strings -> {canonical distribution name: Requirement}, without our own extras."""
    reqs = {canonicalize_name(r.name): r for r in map(Requirement, specs)}
    reqs.pop("speech", None)  # `dev` pulls in the other extras as speech[train,tts-score]
    return reqs


BASE = _requirements(PROJECT["dependencies"])
DECLARED = {
    name: req
    for specs in [PROJECT["dependencies"], *EXTRAS.values()]
    for name, req in _requirements(specs).items()
}


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level third-party module name -> files under speech/ and data_prep/ that import it."""
    found: dict[str, set[str]] = {}
    for package in ("speech", "data_prep"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("speech", "data_prep"):
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


# --- licence and version -------------------------------------------------------------------------


def test_license_is_an_spdx_string_with_its_file():
    assert PROJECT["license"] == "Apache-2.0"  # the table form fills installs with deprecation warnings
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert not any("License ::" in c for c in PROJECT.get("classifiers", []))  # not beside an SPDX licence
    setuptools_req = next(
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if Requirement(r).name == "setuptools"
    )
    assert not setuptools_req.specifier.contains("76.9")  # SPDX `license` needs setuptools >= 77


def test_version_has_one_source():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "speech.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", speech.__version__)
    proc = subprocess.run(
        [sys.executable, "-m", "speech", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"speech {speech.__version__}"


# --- dependencies ---------------------------------------------------------------------------------


def test_every_third_party_import_is_declared():
    owners = importlib.metadata.packages_distributions()  # e.g. yaml -> PyYAML, sklearn -> scikit-learn
    undeclared = []
    for module, files in sorted(_third_party_imports().items()):
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        assert dists, f"{module} (imported by {sorted(files)}) is not installed: which distribution is it?"
        if not dists & DECLARED.keys():
            undeclared.append(f"{module} ({'/'.join(sorted(dists))}) imported by {sorted(files)}")
    assert not undeclared, "declare in pyproject.toml: " + "; ".join(undeclared)


def test_training_and_scoring_packages_are_extras_not_base():
    assert {"lightning", "tensorboard", "matplotlib"} <= _requirements(EXTRAS["train"]).keys()
    assert {"pocketsphinx", "librosa"} <= _requirements(EXTRAS["tts-score"]).keys()
    extras_only = {"lightning", "pytorch-lightning", "tensorboard", "matplotlib", "pocketsphinx", "librosa"}
    assert not BASE.keys() & extras_only
    assert {"pytest", "ruff"} <= _requirements(EXTRAS["dev"]).keys()
    dev_self = [Requirement(r) for r in EXTRAS["dev"] if canonicalize_name(Requirement(r).name) == "speech"]
    assert dev_self and {"train", "tts-score"} <= dev_self[0].extras  # the tests need every extra


def test_runtime_requirements_are_lower_bounds():
    for name, req in DECLARED.items():
        assert req.specifier, f"{name}: give a lower bound"
        for spec in req.specifier:
            assert spec.operator == ">=", f"{name}{spec}: lower bounds only; exact pins go in constraints.txt"


def test_constraints_pin_every_declared_distribution_within_its_bounds():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"constraints.txt: {line}: pin exactly"
            pins[canonicalize_name(req.name)] = spec.version
    assert pins["torch"] == "2.11.0" and pins["torchaudio"] == "2.11.0"
    for name, req in DECLARED.items():
        assert name in pins, f"constraints.txt does not pin {name}"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} breaks {req}"


def test_make_and_ci_install_the_pinned_set():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-c constraints.txt -e ".[train,tts-score,dev]"' in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line.strip().startswith("make ")] == ["make test"]
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- inference does not load training or scoring packages ----------------------------------------


_LOADED = """
import importlib, sys
{setup}
print(sorted({{name.split(".")[0] for name in sys.modules}} & set(sys.argv[1:])))
"""


@pytest.mark.parametrize(
    "setup",
    [
        "import speech.inference",
        "import speech.models",
        "import speech.inference.synthesizer",
        "import speech.cli.main; speech.cli.main.build_parser()",  # imports every subcommand module
    ],
)
def test_inference_imports_no_training_or_scoring_package(setup):
    code = _LOADED.format(setup=setup)
    proc = subprocess.run(
        [sys.executable, "-c", code, *sorted(NOT_FOR_INFERENCE)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]", f"`{setup}` loaded {proc.stdout.strip()}"


_WITHOUT_EXTRAS = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from speech.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("command", ["--help", "transcribe --help", "synthesize --help", "translate --help"])
def test_cli_works_on_a_base_install(command):
    """As if only the base dependencies were installed: Lightning, pocketsphinx, librosa... unimportable."""
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, ",".join(sorted(NOT_FOR_INFERENCE)), *command.split()],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: speech")
