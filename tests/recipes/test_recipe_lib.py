"""What every recipe shares (recipes/lib): options, --help, the documented environment, and no
shell code built from paths."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.recipes.runner import ROOT, run_recipe

RECIPES = sorted(p.parent.relative_to(ROOT / "recipes").as_posix() for p in ROOT.glob("recipes/*/*/run.sh"))
SCRIPTS = [ROOT / "recipes" / r / "run.sh" for r in RECIPES] + sorted(ROOT.glob("recipes/lib/*.sh"))
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


def code(script: Path) -> str:
    """The script without its comments."""
    lines = script.read_text(encoding="utf-8").splitlines()
    return "\n".join(line.split(" #")[0] for line in lines if not line.lstrip().startswith("#"))


def test_no_recipe_builds_shell_code_or_runs_inline_python():
    for script in SCRIPTS:
        text = code(script)
        assert not re.search(r"\b(ba|z|da)?sh\s+-c\b", text), f"{script}: a stage runs a string of shell code"
        assert not re.search(r"\beval\b", text), f"{script}: eval"
        assert not re.search(r"\[@\]/", text), f"{script}: ${{a[@]/pat/$path}} rewrites '&' in a path"
        assert not re.search(r"python3?\"?\s+-c\b|(?<!<)<<(?!<)", text), (
            f"{script}: inline Python or a heredoc"
        )
        assert "yaml" not in text.replace(".yaml", ""), (
            f"{script}: reads YAML itself (use `speech config get`)"
        )


def test_every_environment_variable_is_documented():
    """Each variable a recipe reads is in recipes/README.md, and each run.sh's header points there."""
    readme = (ROOT / "recipes" / "README.md").read_text(encoding="utf-8")
    for script in SCRIPTS:
        for name in set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)[-:+}]", code(script))) - {"PATH"}:
            assert f"`{name}`" in readme, f"{script} reads {name}, which recipes/README.md does not describe"
    for recipe in RECIPES:
        assert "recipes/README.md" in header(ROOT / "recipes" / recipe / "run.sh"), recipe


@pytest.mark.parametrize("recipe", RECIPES)
def test_stage_1_with_a_hostile_data_dir(recipe, tmp_path):
    """Quotes, `$(...)`, backticks, ';' and '&' in DATA_DIR and the exp dir are data, never code."""
    data, exp, cwd = tmp_path / HOSTILE / "data", tmp_path / HOSTILE / "exp", tmp_path / "cwd"
    cwd.mkdir()
    write_manifest(data / TRAIN_MANIFEST.get(recipe, "corpus/train.jsonl"))
    options = ["--exp_dir", str(exp), "--stage", "1", "--stop_stage", "1"]
    proc = run_recipe(recipe, *options, cwd=cwd, DATA_DIR=str(data), VOCAB_SIZE="40")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert not [p for p in tmp_path.rglob("PWNED*")], "a path was run as a command"
    assert not [p for p in ROOT.glob("PWNED*")]
    written = sorted(p.name for p in data.glob("*.json"))
    assert "cmvn.json" in written and any("tokenizer" in name for name in written), written
    assert "stage 2" not in proc.stdout and not (exp / "model.ckpt").exists()  # --stop_stage 1 honoured
    assert sorted(p.suffix for p in (exp / ".stages").iterdir()) == [".done"] * len(written)


@pytest.mark.parametrize("recipe", RECIPES)
def test_help_prints_the_header_only(recipe, tmp_path):
    proc = run_recipe(recipe, "--help", config=None, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == header(ROOT / "recipes" / recipe / "run.sh")
    assert "Usage:" in proc.stdout and "--stop-stage" in proc.stdout
    assert 'here="$(cd' not in proc.stdout and 'lib/recipe.sh"' not in proc.stdout  # no code


@pytest.mark.parametrize("recipe", ["mini/st", "mini/tts"])
def test_a_missing_config_read_before_training_is_one_line(recipe, tmp_path):
    """The recipes that read a config value (`speech config get`) before stage 2 say which file is missing."""
    proc = run_recipe(recipe, "--stage", "1", config=str(tmp_path / "nowhere.yaml"), exp_dir=tmp_path / "exp")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "nowhere.yaml: no such config file" in proc.stderr


def test_option_spellings_and_errors(tmp_path):
    # Stages out of range run nothing: both spellings, and --opt=value.
    for options in (
        ["--stage", "7", "--stop-stage", "9"],
        ["--stage=7", "--stop_stage=9"],
        ["--exp_dir", "x"],
    ):
        proc = run_recipe("mini/asr", "--stage", "7", *options, config=None, cwd=tmp_path)
        assert proc.returncode == 0 and "stage" not in proc.stdout, (options, proc.stderr)
    for options, message in [
        (["--bogus"], "unknown option '--bogus'"),
        (["--stop_stage"], "--stop_stage needs a value"),
        (["--stage", "x"], "stage numbers must be integers"),
    ]:
        proc = run_recipe("mini/asr", *options, config=None, cwd=tmp_path)
        assert proc.returncode == 2 and proc.stdout == "", options
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "config", sorted(ROOT.glob("recipes/*/*/conf/*.yaml")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_training_budgets_are_steps_or_epochs(config):
    """A time budget makes the model depend on the machine's load: recipes stop on steps or epochs."""
    from speech.config import from_dict, load_config_yaml
    from tests.recipe_configs import config_class

    raw = load_config_yaml(config)  # with its base: file underneath
    assert "max_minutes" not in (raw.get("trainer") or {}), f"{config}: use max_steps or max_epochs"
    trainer = from_dict(config_class(config), raw).trainer
    assert trainer.max_minutes is None and (trainer.max_steps > 0 or trainer.max_epochs > 0)
