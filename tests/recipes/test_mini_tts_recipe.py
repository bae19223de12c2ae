"""Smoke run of every stage of recipes/mini/tts on a tiny corpus and config."""

from tests.recipes.runner import run_recipe


def run(tmp_path, *args, asr_model="none"):
    return run_recipe(
        "mini/tts",
        *args,
        exp_dir=tmp_path / "exp",
        DATA_DIR=str(tmp_path / "data"),
        CORPUS_OPTS="--tts-train 4 --tts-dev 2 --tts-test 2 --jobs 2 --quiet",
        ASR_MODEL=str(tmp_path / asr_model),
    )


def test_all_stages_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    assert "| synthesized | 2 |" in results and "| reference | 2 |" in results
    assert "pocketsphinx WER" in results and "diagonality" in results
    assert (exp / "model.ckpt").is_file()
    assert len(list((exp / "synth_test").glob("*.wav"))) == 2
    again = run(tmp_path)
    assert again.returncode == 0
    assert again.stdout.count("up to date, skipped") == 6  # stages 0, 1 (tokenizer, mel stats), 2, 3, 4


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--stop-stage", "y")
    assert proc.returncode == 2
