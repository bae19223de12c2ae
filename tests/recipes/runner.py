"""Run a ``recipes/<corpus>/<task>/run.sh`` in a subprocess: the helper every recipe test shares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_recipe(
    recipe: str,
    *args: str,
    config: str | Path | None = "smoke.yaml",
    exp_dir: Path | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
    **env: str,
) -> subprocess.CompletedProcess:
    """Run ``recipes/<recipe>/run.sh ARGS`` and capture its output.

    Args:
        recipe: ``<corpus>/<task>``, e.g. ``mini/asr``.
        args: More options, after ``--config`` and ``--exp-dir``.
        config: ``--config``: a file name in the recipe's ``conf/``, or a path holding a slash;
            None gives no ``--config``.
        exp_dir: ``--exp-dir``; None gives none.
        cwd: The working folder (default: this process's).
        timeout: Seconds before the run is killed.
        env: Environment variables to add or override (``DATA_DIR``, ``CORPUS_OPTS``, ...); the
            Python running the tests, and its ``speech`` command, come first on ``PATH``.
    """
    folder = ROOT / "recipes" / recipe
    command = ["bash", str(folder / "run.sh")]
    if config is not None:
        path = Path(config) if "/" in str(config) else folder / "conf" / config
        command += ["--config", str(path)]
    if exp_dir is not None:
        command += ["--exp-dir", str(exp_dir)]
    environ = dict(os.environ)
    environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environ["PATH"]
    environ.update(env)
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=environ, cwd=cwd, timeout=timeout
    )


def ding_env(tmp_path: Path, corpus_opts: str) -> dict[str, str]:
    """``DATA_DIR`` and ``CORPUS_OPTS`` that make a ding recipe's corpus from the fixture dictionary.

    The dictionary is written to ``tmp_path/de-en``; 8 pairs, 2 for dev and 2 for test, with
    ``corpus_opts`` (e.g. the voices) added.
    """
    from tests.data_prep.test_ding import FIXTURE

    dictionary = tmp_path / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    fixture = f"--dictionary {dictionary} --max-pairs 8 --dev 2 --test 2"
    return {"DATA_DIR": str(tmp_path / "data"), "CORPUS_OPTS": f"{fixture} {corpus_opts} --jobs 2 --quiet"}
