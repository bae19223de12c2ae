"""What every recipe shares (recipes/lib/recipe.sh): options, --help, and no shell code built from paths."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted(p.parent.relative_to(ROOT / "recipes").as_posix() for p in ROOT.glob("recipes/*/*/run.sh"))
# A folder name that breaks a '...'-quoted string and runs commands if it is ever evaluated as code.
HOSTILE = 'it\'s $(touch PWNED) `touch PWNED_TICK`; touch PWNED_SEMI & "q"'
# Where stage 0 of each recipe writes the training manifest that stage 1 reads, under DATA_DIR.
TRAIN_MANIFEST = {"mini/tts": "corpus/tts/train.jsonl", "ding/tts": "corpus/tts/train.jsonl"}
TEXTS = [
    "one two three",
    "four five six",
    "seven eight nine",
    "ten eleven twelve",
    "twenty one",
    "ninety nine",
]


def header(run_sh: Path) -> str:
    """The comment lines after the shebang, without their '# ', up to the first line of code."""
    lines = []
    for line in run_sh.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.startswith("#"):
            break
        lines.append(re.sub(r"^# ?", "", line))
    return "\n".join(lines) + "\n"


def run_recipe(recipe: str, *args: str, cwd: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env["PYTHON"] = sys.executable
    env.update(env_overrides)
    command = ["bash", str(ROOT / "recipes" / recipe / "run.sh"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)


def write_manifest(path: Path) -> None:
    """A six-utterance manifest (transcripts and translations) with its tones beside it."""
    path.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = []
    for i, text in enumerate(TEXTS):
        audio = path.parent / f"u{i}.wav"
        sf.write(str(audio), 0.1 * rng.standard_normal(4000 + 800 * i).astype(np.float32), 16000)
        record = {"id": f"u{i}", "audio": str(audio), "duration": (4000 + 800 * i) / 16000}
        record |= {"sample_rate": 16000, "text": text, "translation": f"{text} en français", "speaker": "s1"}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def test_no_recipe_builds_shell_code():
    scripts = [ROOT / "recipes" / r / "run.sh" for r in RECIPES] + [ROOT / "recipes/lib/recipe.sh"]
    for script in scripts:
        code = "\n".join(
            line.split(" #")[0] for line in script.read_text().splitlines() if not line.startswith("#")
        )
        assert not re.search(r"\b(ba|z|da)?sh\s+-c\b", code), f"{script}: a stage runs a string of shell code"
        assert not re.search(r"\beval\b", code), f"{script}: eval"
        assert not re.search(r"\[@\]/", code), f"{script}: ${{a[@]/pat/$path}} rewrites '&' in a path"


@pytest.mark.parametrize("recipe", RECIPES)
def test_stage_1_with_a_hostile_data_dir(recipe, tmp_path):
    """Quotes, `$(...)`, backticks, ';' and '&' in DATA_DIR and the exp dir are data, never code."""
    data, exp, cwd = tmp_path / HOSTILE / "data", tmp_path / HOSTILE / "exp", tmp_path / "cwd"
    cwd.mkdir()
    write_manifest(data / TRAIN_MANIFEST.get(recipe, "corpus/train.jsonl"))
    config = str(ROOT / "recipes" / recipe / "conf" / "smoke.yaml")
    options = ["--config", config, "--exp_dir", str(exp), "--stage", "1", "--stop_stage", "1"]
    proc = run_recipe(recipe, *options, cwd=cwd, DATA_DIR=str(data), VOCAB_SIZE="40", CMVN_UTTS="4")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert not [p for p in tmp_path.rglob("PWNED*")], "a path was run as a command"
    assert not [p for p in ROOT.glob("PWNED*")]
    written = sorted(p.name for p in data.glob("*.json"))
    assert "cmvn.json" in written and any("tokenizer" in name for name in written), written
    assert "stage 2" not in proc.stdout and not (exp / "model.ckpt").exists()  # --stop_stage 1 honoured
    assert sorted(p.suffix for p in (exp / ".stages").iterdir()) == [".done"] * len(written)


@pytest.mark.parametrize("recipe", RECIPES)
def test_help_prints_the_header_only(recipe, tmp_path):
    proc = run_recipe(recipe, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == header(ROOT / "recipes" / recipe / "run.sh")
    assert "Usage:" in proc.stdout and "--stop-stage" in proc.stdout
    assert 'here="$(cd' not in proc.stdout and 'lib/recipe.sh"' not in proc.stdout  # no code


def test_option_spellings_and_errors(tmp_path):
    # Stages out of range run nothing: both spellings, and --opt=value.
    for options in (
        ["--stage", "7", "--stop-stage", "9"],
        ["--stage=7", "--stop_stage=9"],
        ["--exp_dir", "x"],
    ):
        proc = run_recipe("mini/asr", "--stage", "7", *options, cwd=tmp_path)
        assert proc.returncode == 0 and "stage" not in proc.stdout, (options, proc.stderr)
    for options, message in [
        (["--bogus"], "unknown option '--bogus'"),
        (["--stop_stage"], "--stop_stage needs a value"),
        (["--stage", "x"], "stage numbers must be integers"),
    ]:
        proc = run_recipe("mini/asr", *options, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stdout == "", options
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "config", sorted(ROOT.glob("recipes/*/*/conf/*.yaml")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_training_budgets_are_steps_or_epochs(config):
    """A time budget makes the model depend on the machine's load: recipes stop on steps or epochs."""
    from speech.config import from_dict, load_yaml
    from tests.recipe_configs import config_class

    raw = load_yaml(config)
    assert "max_minutes" not in (raw.get("trainer") or {}), f"{config}: use max_steps or max_epochs"
    trainer = from_dict(config_class(config), raw).trainer
    assert trainer.max_minutes is None and (trainer.max_steps > 0 or trainer.max_epochs > 0)
