"""Smoke run of every stage of recipes/ding/st on a fixture dictionary and the CPU smoke config."""

import pytest

from tests.recipes.runner import ding_env, run_recipe


@pytest.mark.slow  # about a minute: flite, three tokenizer/statistics runs, training and decoding
def test_all_stages_on_a_fixture_dictionary(tmp_path):
    env = ding_env(tmp_path, "--voices slt,awb")
    env["VOCAB_SIZE"] = "40"
    env["ASR_MODEL"] = ""  # from scratch, even where recipes/ding/asr/exp holds a trained model
    exp = tmp_path / "exp"
    proc = run_recipe("ding/st", exp_dir=exp, **env)
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
