"""A stage is marked done only when it exited 0 and wrote every output it declares (issue 12)."""

import sys

from speech.stages import main, run_stage


def test_stage_that_exits_0_without_its_output_is_not_done(tmp_path, capsys):
    markers, model = tmp_path / "markers", tmp_path / "exp" / "model.ckpt"
    # exits 0, as an interrupted `speech train` once did, but writes no model
    silent = [sys.executable, "-c", "pass"]
    assert run_stage(2, "train", silent, [], [str(model)], markers, resumable=True) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(model) in err[0] and "not marked done" in err[0]
    assert not (markers / "2-train.done").exists()
    assert (markers / "2-train.started").is_file()  # a resumable stage resumes next time


def test_stage_is_done_when_every_output_exists(tmp_path):
    markers, a, b = tmp_path / "markers", tmp_path / "a.txt", tmp_path / "b.txt"
    script = (
        f"import pathlib; pathlib.Path({str(a)!r}).write_text('a'); pathlib.Path({str(b)!r}).write_text('b')"
    )
    assert run_stage(3, "two outputs", [sys.executable, "-c", script], [], [str(a), str(b)], markers) == 0
    assert (markers / "3-two_outputs.done").is_file() and not (markers / "3-two_outputs.started").exists()


def test_one_missing_output_of_several_fails_through_the_command_line(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    script = f"import pathlib; pathlib.Path({str(a)!r}).write_text('a')"
    argv = ["run", "4", "score", "--outputs", str(a), str(b), "--markers", str(tmp_path / "m")]
    assert main([*argv, "--", sys.executable, "-c", script]) == 1
    assert str(b) in capsys.readouterr().err and not (tmp_path / "m" / "4-score.done").exists()
