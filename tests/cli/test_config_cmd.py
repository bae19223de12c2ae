"""``speech config get``: the config values recipes read, one line per key."""

from pathlib import Path

import pytest

from speech.cli.config_cmd import config_values, format_value
from speech.cli.main import main

ST_SMOKE = Path(__file__).resolve().parents[2] / "recipes/mini/st/conf/smoke.yaml"


def get(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["config", "get", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_values_as_written_one_line_each(tmp_path, capsys):
    config = write(tmp_path, "data:\n  target_lang: de\n  max_seconds: 12.5\ntrainer:\n  max_steps: 3\n")
    code, out, err = get(capsys, "--config", str(config), "data.target_lang", "trainer.max_steps", "data")
    assert code == 0 and err == ""
    assert out.splitlines() == ["de", "3", '{"target_lang": "de", "max_seconds": 12.5}']


def test_with_a_task_defaults_fill_what_the_file_leaves_out(tmp_path, capsys):
    config = write(tmp_path, "trainer:\n  max_steps: 3\n")
    code, out, _ = get(capsys, "--task", "st", "--config", str(config), "data.target_lang")
    assert code == 0 and out == "fr\n"  # STConfig's default
    code, out, _ = get(
        capsys, "--task", "tts", "--config", str(config), "text.lang", "text.phonemes", "text.phoneme_lang"
    )
    assert code == 0 and out == "en\nfalse\n\n"  # null is an empty line


def test_overrides_apply_first(capsys):
    args = ("--task", "st", "--config", str(ST_SMOKE), "data.target_lang")
    assert get(capsys, *args)[1] == "fr\n"
    assert get(capsys, *args, "--set", "data.target_lang=de")[1] == "de\n"


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("data: {}\n", ("data.target_lang",), "conf.yaml: no key 'data.target_lang' ('data' is empty)"),
        ("a: 1\n", ("a.b",), "conf.yaml: no key 'a.b'"),
        ("a: {b: 1}\n", ("a.c",), "conf.yaml: no key 'a.c' (known in 'a': b)"),
        ("data: {bogus: 1}\n", ("--task", "st", "data.target_lang"), "unknown key 'data.bogus'"),
        ("optim:\n  lr: -1\n", ("--task", "asr", "optim.lr"), "'optim.lr' must be > 0"),
        ("a: [\n", ("a",), "conf.yaml:2: invalid YAML"),
        ("a: 1\n", ("a", "--set", "novalue"), "override 'novalue' must look like key.sub=value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, text, args, message):
    code, out, err = get(capsys, "--config", str(write(tmp_path, text)), *args)
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert err.startswith("speech config: error: ") and message in err, err


def test_a_missing_file_or_task(tmp_path, capsys):
    code, _, err = get(capsys, "--config", str(tmp_path / "nowhere.yaml"), "a")
    assert code == 2 and err.strip().endswith("nowhere.yaml: no such config file")
    with pytest.raises(SystemExit) as exit_:
        main(["config", "get", "--task", "mt", "--config", str(ST_SMOKE), "a"])
    assert exit_.value.code == 2 and "invalid choice: 'mt'" in capsys.readouterr().err


def test_every_value_stays_on_one_line(tmp_path):
    assert format_value("two\nlines") == '"two\\nlines"'
    assert format_value("über") == "über" and format_value(None) == ""
    assert format_value([0.9, True, None]) == "[0.9, true, null]"
    assert config_values(write(tmp_path, "a: {b: [1, 2]}\n"), ["a.b", "a"]) == [[1, 2], {"b": [1, 2]}]
