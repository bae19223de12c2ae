"""Run a recipes/ding/<task>/run.sh on the fixture Ding dictionary (shared by the ding recipe tests)."""

import os
import subprocess
import sys
from pathlib import Path

from tests.data_prep.test_ding import FIXTURE


def run_ding(
    task: str,
    tmp_path: Path,
    corpus_opts: str,
    *args: str,
    config: str = "smoke.yaml",
    exp: str = "exp",
    **env: str,
) -> subprocess.CompletedProcess:
    """Run ``recipes/ding/<task>/run.sh`` with ``config`` into ``tmp_path/exp``.

    The corpus is made from the fixture dictionary with ``corpus_opts`` added; ``env`` adds or
    overrides environment variables (e.g. ``VOCAB_SIZE``, ``TRAIN_OPTS``).
    """
    dictionary = tmp_path / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    environ = dict(os.environ)
    environ["DATA_DIR"] = str(tmp_path / "data")
    fixture = f"--dictionary {dictionary} --max-pairs 8 --dev 2 --test 2"
    environ["CORPUS_OPTS"] = f"{fixture} {corpus_opts} --jobs 2 --quiet"
    environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environ["PATH"]
    environ["PYTHON"] = sys.executable
    environ.update(env)
    recipe = Path("recipes/ding") / task
    command = ["bash", str(recipe / "run.sh"), "--config", str(recipe / "conf" / config)]
    command += ["--exp-dir", str(tmp_path / exp)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=environ, timeout=900)
