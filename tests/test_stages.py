import sys

from speech.stages import run_stage


def command(tmp_path, text):
    script = f"import pathlib; pathlib.Path({str(tmp_path / 'out.txt')!r}).write_text({text!r})"
    return [sys.executable, "-c", script]


def test_marker_skips_rerun_and_changed_input_reruns(tmp_path, capsys):
    markers, inp = tmp_path / "markers", tmp_path / "in.txt"
    inp.write_text("v1")
    out = tmp_path / "out.txt"
    assert run_stage(0, "demo", command(tmp_path, "a"), [str(inp)], [str(out)], markers) == 0
    assert out.read_text() == "a"
    out.write_text("touched")
    assert run_stage(0, "demo", command(tmp_path, "a"), [str(inp)], [str(out)], markers) == 0
    assert out.read_text() == "touched" and "up to date" in capsys.readouterr().out
    inp.write_text("v2")
    assert run_stage(0, "demo", command(tmp_path, "a"), [str(inp)], [str(out)], markers) == 0
    assert out.read_text() == "a"
    assert run_stage(0, "demo", command(tmp_path, "b"), [str(inp)], [str(out)], markers) == 0
    assert out.read_text() == "b"


def test_failed_stage_writes_no_marker_and_cleans_outputs_next_time(tmp_path):
    markers, partial = tmp_path / "markers", tmp_path / "partial"
    partial.mkdir()
    (partial / "junk").write_text("x")
    fail = [sys.executable, "-c", "import sys; sys.exit(3)"]
    assert run_stage(1, "fails", fail, [], [str(partial)], markers) == 3
    assert not (markers / "1-fails.done").exists() and not partial.exists()


def test_resumable_stage_keeps_outputs_after_interruption(tmp_path):
    ckpt = tmp_path / "ckpt"
    # Succeeds only if a previous attempt's checkpoint is still there.
    path = str(ckpt)
    script = f"import pathlib,sys; p=pathlib.Path({path!r}); e=p.exists(); p.write_text('x'); sys.exit(1-e)"
    resume = [sys.executable, "-c", script]
    assert run_stage(2, "train", resume, [], [str(ckpt)], tmp_path / "a", resumable=True) == 1
    assert run_stage(2, "train", resume, [], [str(ckpt)], tmp_path / "a", resumable=True) == 0
    ckpt.unlink()
    assert run_stage(2, "train", resume, [], [str(ckpt)], tmp_path / "b") == 1
    assert run_stage(2, "train", resume, [], [str(ckpt)], tmp_path / "b") == 1  # not resumable: cleaned first
