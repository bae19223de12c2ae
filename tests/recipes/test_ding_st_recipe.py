"""Smoke run of every stage of recipes/ding/st on a fixture dictionary and the CPU smoke config."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data_prep.test_ding import FIXTURE

RUN = Path("recipes/ding/st/run.sh")


@pytest.mark.slow  # about a minute: flite, three tokenizer/statistics runs, training and decoding
def test_all_stages_on_a_fixture_dictionary(tmp_path):
    dictionary = tmp_path / "de-en"
    dictionary.write_text(FIXTURE, encoding="utf-8")
    env = dict(os.environ)
    env["DATA_DIR"] = str(tmp_path / "data")
    env["CORPUS_OPTS"] = (
        f"--dictionary {dictionary} --max-pairs 8 --dev 2 --test 2 --voices slt,awb --jobs 2 --quiet"
    )
    env["VOCAB_SIZE"] = "40"
    env["ASR_MODEL"] = ""  # from scratch, even where recipes/ding/asr/exp holds a trained model
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["PYTHON"] = sys.executable
    exp = tmp_path / "exp"
    proc = subprocess.run(
        ["bash", str(RUN), "--config", "recipes/ding/st/conf/smoke.yaml", "--exp-dir", str(exp)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    results = (exp / "RESULTS.md").read_text()
    assert (
        "| dev | 2 |" in results
        and "| test | 2 |" in results
        and "| BLEU | chrF | exact match % |" in results
    )
    refs = (exp / "decode_test" / "ref.txt").read_text().splitlines()
    assert len(refs) == 2 and all(line.split("\t")[1][-1] in ".?!" for line in refs)  # German sentences
    assert len((exp / "decode_test" / "hyp.txt").read_text().splitlines()) == 2
