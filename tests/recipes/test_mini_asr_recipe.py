"""Smoke run of every stage of recipes/mini/asr on a tiny corpus and config."""

from tests.recipes.runner import run_recipe

CORPUS_OPTS = "--train 6 --dev 2 --test 2 --voices slt,en-us+m3 --jobs 2 --quiet"


def run(tmp_path, *args):
    return run_recipe(
        "mini/asr", *args, exp_dir=tmp_path / "exp", DATA_DIR=str(tmp_path / "data"), CORPUS_OPTS=CORPUS_OPTS
    )


def test_all_stages_then_rerun_skips(tmp_path):
    proc = run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    exp = tmp_path / "exp"
    results = (exp / "RESULTS.md").read_text()
    assert "| dev | 2 |" in results and "| test | 2 |" in results and "RTF" in results
    for row in ("test_unseen", "test_pocketsphinx", "test_unseen_pocketsphinx"):
        assert f"| {row} | 2 |" in results, results
    assert (exp / "model.ckpt").is_file()
    assert len((exp / "decode_test" / "hyp.txt").read_text().splitlines()) == 2
    again = run(tmp_path)
    assert again.returncode == 0
    # 0, 1 (tokenizer, CMVN), 2, 3 (dev, test, test_unseen and the peer on the last two), 4
    assert again.stdout.count("up to date, skipped") == 10
    only_score = run(tmp_path, "--stage", "4", "--stop-stage", "4")
    assert only_score.returncode == 0 and "stage 0" not in only_score.stdout
    # The optional sequence training: stage 2 fine-tunes the model with MWER, stages 3-4 score it.
    tuned = run_recipe(
        "mini/asr",
        "--stage",
        "2",
        exp_dir=tmp_path / "exp_mwer",
        DATA_DIR=str(tmp_path / "data"),
        CORPUS_OPTS=CORPUS_OPTS,
        INIT_FROM=str(exp / "model.ckpt"),
        TRAIN_OPTS="loss.criterion=mwer loss.nbest=2",
    )
    assert tuned.returncode == 0, tuned.stdout[-2000:] + tuned.stderr[-3000:]
    assert f"model initialised from {exp / 'model.ckpt'}" in tuned.stdout
    assert "| test | 2 |" in (tmp_path / "exp_mwer" / "RESULTS.md").read_text()
    assert "criterion: mwer" in (tmp_path / "exp_mwer" / "config.yaml").read_text()


def test_bad_options(tmp_path):
    proc = run(tmp_path, "--bogus")
    assert proc.returncode == 2 and "unknown option" in proc.stderr
    proc = run(tmp_path, "--stage", "x")
    assert proc.returncode == 2
