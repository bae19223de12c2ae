"""Smoke run of every stage of recipes/mini/tts on a tiny corpus and config."""

from tests.recipes.runner import ROOT, run_recipe

VOCODER_SMOKE = str(ROOT / "recipes" / "mini" / "tts" / "conf" / "vocoder_smoke.yaml")


def run(tmp_path, *args, asr_model="none", vocoder=VOCODER_SMOKE):
    return run_recipe(
        "mini/tts",
        *args,
        exp_dir=tmp_path / "exp",
        DATA_DIR=str(tmp_path / "data"),
        CORPUS_OPTS="--tts-train 4 --tts-dev 2 --tts-test 2 --jobs 2 --quiet",
        ASR_MODEL=str(tmp_path / asr_model),
        VOCODER_CONFIG=vocoder,
    )


def test_all_stages_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    vocoder = exp / "vocoder" / "model.ckpt"
    assert "| synthesized (Griffin-Lim 32) | 2 |" in results and "| reference | 2 |" in results
    assert f"| synthesized (vocoder `{vocoder}`) | 2 |" in results
    assert "| copy-synthesis (Griffin-Lim 32) | 2 |" in results
    assert f"| copy-synthesis (vocoder `{vocoder}`) | 2 |" in results and "| STOI |" in results
    assert "pocketsphinx WER" in results and "diagonality" in results
    assert (exp / "model.ckpt").is_file() and vocoder.is_file()
    assert len(list((exp / "synth_test").glob("*.wav"))) == 2
    assert len(list((exp / "synth_test_vocoder").glob("*.wav"))) == 2
    again = run(tmp_path)
    assert again.returncode == 0
    # stages 0, 1 (tokenizer, mel stats), 2 (tts, vocoder), 3 (griffin-lim, vocoder), 4
    assert again.stdout.count("up to date, skipped") == 8


def test_griffin_lim_alone_without_a_vocoder_config(tmp_path):
    proc = run(tmp_path, vocoder="")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    results = (tmp_path / "exp" / "RESULTS.md").read_text()
    assert "| synthesized | 2 |" in results and "| copy-synthesis (Griffin-Lim 32) | 2 |" in results
    assert not (tmp_path / "exp" / "vocoder").exists() and "vocoder`" not in results


def test_a_missing_vocoder_config_is_one_line(tmp_path):
    proc = run(tmp_path, "--stage", "2", vocoder=str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2 and "nope.yaml: no such file" in proc.stderr


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--stop-stage", "y")
    assert proc.returncode == 2
