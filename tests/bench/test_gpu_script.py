"""bench/gpu_ding.sh, the prepared GPU check, in its CPU dry-run mode (GPU_SMOKE=1) on the fixture
Ding dictionary: it must build the corpus, train, decode the three sets and report, so that the
script a lent GPU machine runs has not rotted since it last ran there."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.data_prep.test_ding import FIXTURE

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_script_dry_run_trains_decodes_and_reports(tmp_path: Path) -> None:
    dictionary = tmp_path / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    out = tmp_path / "out"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this Python's `speech`
    env.update(
        GPU_SMOKE="1",
        OUT=str(out),
        WORK=str(tmp_path / "work"),
        JOBS="1",
        SMOKE_CORPUS_OPTS=f"--dictionary {dictionary} --max-pairs 8 --dev 2 --test 2",
    )
    result = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_ding.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = (out / "RESULTS.md").read_text(encoding="utf-8")
    for split in ("dev", "test", "test_unseen"):
        assert f"| {split} | 2 |" in report, report
    assert json.loads((out / "training.json").read_text(encoding="utf-8"))["global_step"] == 3
    assert (out / "hyp_test_unseen.txt").read_text(encoding="utf-8").count("\n") == 2
    assert "done" in (out / "gpu.log").read_text(encoding="utf-8")


def test_gpu_script_without_its_bundle_is_one_line(tmp_path: Path) -> None:
    """On the GPU machine, a missing .gpu/ (bench/gpu_bundle.sh not run, or not carried) is one line."""
    (tmp_path / "bench").mkdir()
    script = tmp_path / "bench" / "gpu_ding.sh"
    script.write_bytes((ROOT / "bench" / "gpu_ding.sh").read_bytes())
    env = dict(os.environ, OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"))
    env.pop("GPU_SMOKE", None)
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line]
    assert lines == [
        "bench/gpu_ding.sh: error: .gpu/sysroot.tar.xz is missing; "
        "run bench/gpu_bundle.sh here and carry .gpu"
    ]
    assert not (tmp_path / "work" / "corpus").exists()
