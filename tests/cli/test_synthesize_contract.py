"""The CLI contract of ``speech synthesize`` (issue 12).

Classes covered: a repeated name silently overwriting an output, ids that escape ``--out-dir``
(``..``, ``/``, NUL, line breaks), outputs checked before the work, option values NaN/out of
range, ``--text-file -`` (stdin), ``--json`` and ``--quiet``, progress bars, ``--alignment`` plots.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from speech.cli._decode import progress_bar
from speech.cli.main import main


def _manifest(path: Path, ids: list[str]) -> Path:
    lines = [
        json.dumps({"id": i, "audio": "a.wav", "duration": 1.0, "sample_rate": 22050, "text": f"hello {n}"})
        for n, i in enumerate(ids)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("speech synthesize: error: ")
    return err[0]


@pytest.mark.parametrize("source", ["text-file", "manifest"])
def test_repeated_names_are_refused_before_the_model_loads(tmp_path, capsys, source):
    if source == "text-file":
        (tmp_path / "in.txt").write_text("a\thello\nb\tthere\na\tagain\n")
    else:
        _manifest(tmp_path / "in.txt", ["a", "b", "a"])
    out = tmp_path / "out"
    argv = ["synthesize", "--model", str(tmp_path / "missing.ckpt"), f"--{source}", str(tmp_path / "in.txt")]
    assert main([*argv, "--out-dir", str(out)]) == 2
    message = _one_error(capsys)
    assert "'a'" in message and ("more than once" in message or "duplicate" in message)
    assert not out.exists()


BAD_IDS = ["..", ".", "../x", "../../escaped", "a/b", "/ABS/escaped", "a\\b", "a\x00b", "a\rb", "a\x0bb", ""]


@pytest.mark.parametrize("bad", [*BAD_IDS, "a\nb"])
def test_manifest_ids_cannot_escape_the_out_dir(checkpoints, tmp_path, capsys, bad):
    bad = bad.replace("/ABS", str(tmp_path))
    manifest = _manifest(tmp_path / "m.jsonl", ["fine", bad])
    before = _files(tmp_path)
    argv = ["synthesize", "--model", str(checkpoints["tts"]), "--manifest", str(manifest)]
    assert main([*argv, "--out-dir", str(tmp_path / "deep" / "out")]) == 2
    _one_error(capsys)
    assert _files(tmp_path) == before  # nothing written anywhere, not even the output folder
    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize("bad", [b for b in BAD_IDS if b])  # an empty ID<TAB> is a blank name
def test_text_file_ids_cannot_escape_the_out_dir(checkpoints, tmp_path, capsys, bad):
    bad = bad.replace("/ABS", str(tmp_path))
    text_file = tmp_path / "in.txt"
    text_file.write_text(f"fine\thello\n{bad}\tthere\n")
    before = _files(tmp_path)
    argv = ["synthesize", "--model", str(checkpoints["tts"]), "--text-file", str(text_file)]
    assert main([*argv, "--out-dir", str(tmp_path / "deep" / "out")]) == 2
    assert str(text_file) in _one_error(capsys)
    assert _files(tmp_path) == before
    assert not (tmp_path.parent / "escaped").exists()


def test_text_file_from_stdin(checkpoints, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("x\thello\nthere \u2028 now\n".encode())))
    out = tmp_path / "out"
    argv = ["synthesize", "--model", str(checkpoints["tts"]), "--text-file", "-", "--out-dir", str(out)]
    assert main([*argv, "--griffin-lim-iters", "1", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == ["x", "0002"]  # U+2028 is text, not a line break
    assert sorted(p.name for p in out.iterdir()) == ["0002.wav", "x.wav"]
    assert records[0]["file"] == str(out / "x.wav") and records[0]["seconds"] > 0


def test_stdin_duplicates_name_stdin(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\tone\na\ttwo\n")))
    argv = ["synthesize", "--model", "m.ckpt", "--text-file", "-", "--out-dir", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "<stdin>" in _one_error(capsys)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", "hi", "--out", "{tmp}"], "is a folder"),
        (["--text", "hi", "--out", "{tmp}/blocker/x.wav"], "not a folder"),
        (["--text", "hi", "--out", "-"], "stdout"),
        (["--text", "hi", "--out-dir", "{tmp}/o", "--out", "{tmp}/x.wav"], "--out-dir goes with"),
        (["--text-file", "{tmp}/in.txt", "--out", "{tmp}/x.wav"], "--out goes with --text"),
        (["--text-file", "{tmp}/in.txt", "--out-dir", "{tmp}/blocker"], "not a folder"),
        (["--text-file", "{tmp}/in.txt", "--out-dir", "{tmp}/o"], "x.wav: cannot write"),
        (["--manifest", "{tmp}/m.jsonl", "--out-dir", "{tmp}/o2"], "synth.jsonl: cannot write"),
    ],
)
def test_outputs_are_checked_before_the_model_loads(tmp_path, capsys, args, message):
    (tmp_path / "blocker").write_text("a file")
    (tmp_path / "in.txt").write_text("x\thello\n")
    (tmp_path / "o" / "x.wav").mkdir(parents=True)  # a folder where a wav should go
    (tmp_path / "o2" / "synth.jsonl").mkdir(parents=True)
    _manifest(tmp_path / "m.jsonl", ["u1"])
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["synthesize", "--model", str(tmp_path / "missing.ckpt"), *args]) == 2
    assert message in _one_error(capsys)
    assert (tmp_path / "blocker").read_text() == "a file"


@pytest.mark.parametrize(
    "argv",
    [
        ["--stop-threshold", "nan"],
        ["--stop-threshold", "1.5"],
        ["--griffin-lim-iters", "-1"],
        ["--seed", "-1"],
        ["--batch-size", "0"],
        ["--device", "tpu9"],
        ["--threads", "-3"],
    ],
)
def test_bad_option_values_are_argparse_one_liners(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(["synthesize", "--model", "m.ckpt", "--text", "hi", "--out", "x.wav", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"speech synthesize: error: argument {argv[0]}")


def test_manifest_json_and_quiet(checkpoints, tmp_path, capsys):
    manifest = _manifest(tmp_path / "m.jsonl", ["u1", "u2"])
    out = tmp_path / "out"
    argv = [
        "synthesize",
        "--model",
        str(checkpoints["tts"]),
        "--manifest",
        str(manifest),
        "--out-dir",
        str(out),
    ]
    assert main([*argv, "--griffin-lim-iters", "1", "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["id"], Path(r["file"]).name) for r in records] == [("u1", "u1.wav"), ("u2", "u2.wav")]
    assert captured.err == ""  # no statistics line, no progress bar
    assert main([*argv, "--griffin-lim-iters", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and json.loads(captured.err)["utterances"] == 2


def test_progress_bars_only_on_a_terminal(monkeypatch):
    assert progress_bar(3, quiet=False).disable  # pytest's stderr is not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with progress_bar(3, quiet=False) as bar:
        assert not bar.disable
    assert progress_bar(3, quiet=True).disable


def test_an_output_format_soundfile_cannot_write_is_refused_before_synthesis(tmp_path, capsys, monkeypatch):
    from speech.inference import synthesizer

    def never(*args, **kwargs):
        raise AssertionError("the model must not be loaded for a bad output name")

    monkeypatch.setattr(synthesizer.Synthesizer, "from_checkpoint", classmethod(never))
    out = tmp_path / "out.txt"
    assert main(["synthesize", "--model", str(tmp_path / "m.ckpt"), "--text", "hi", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'.txt' format" in err[0] and not out.exists()


def test_outputs_never_replace_the_recordings_the_manifest_names(tmp_path, capsys):
    """--out-dir where the manifest's own recordings live: refused before anything is written."""
    import soundfile as sf

    wavs = tmp_path / "wavs"
    wavs.mkdir()
    sf.write(wavs / "u1.wav", [0.1] * 1600, 16000)
    before = (wavs / "u1.wav").read_bytes()
    manifest = tmp_path / "test.jsonl"
    line = {"id": "u1", "audio": "wavs/u1.wav", "duration": 0.1, "sample_rate": 16000, "text": "one"}
    manifest.write_text(json.dumps(line) + "\n")
    argv = ["synthesize", "--model", str(tmp_path / "m.ckpt"), "--manifest", str(manifest)]
    assert main([*argv, "--out-dir", str(wavs)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "it is the input" in err[0]
    assert (wavs / "u1.wav").read_bytes() == before and sorted(p.name for p in wavs.iterdir()) == ["u1.wav"]


def test_a_byte_order_mark_is_not_part_of_the_first_id(tmp_path, checkpoints, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_bytes("\ufeffa\tone\r\nb\ttwo\r\n".encode())
    out = tmp_path / "wavs"
    argv = [
        "synthesize",
        "--model",
        str(checkpoints["tts"]),
        "--text-file",
        str(lines),
        "--out-dir",
        str(out),
    ]
    assert main([*argv, "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]


def test_griffin_lim_iterations_are_bounded(tmp_path, capsys):
    argv = [
        "synthesize",
        "--model",
        str(tmp_path / "m.ckpt"),
        "--text",
        "hi",
        "--out",
        str(tmp_path / "x.wav"),
    ]
    assert main([*argv, "--griffin-lim-iters", "100000000000"]) == 2
    assert "[0, 1000]" in capsys.readouterr().err


def test_a_repeated_warning_is_one_line_with_a_count(tmp_path, checkpoints, capsys):
    """The tiny random model never predicts a stop: three identical texts warn once, '(3 times)'."""
    lines = tmp_path / "lines.txt"
    lines.write_text("a\thello\nb\thello\nc\thello\n")
    argv = ["synthesize", "--model", str(checkpoints["tts"]), "--text-file", str(lines)]
    assert main([*argv, "--out-dir", str(tmp_path / "wavs"), "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and warnings[0].endswith("(3 times)")


def _vocabulary_model(tmp_path: Path) -> Path:
    from tests.inference.tiny import tts_checkpoint

    return tts_checkpoint(tmp_path / "vocab.ckpt", word_vocabulary=["one", "two", "three"])


def _unseen_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "never" in line]


def test_a_text_of_unseen_words_is_one_warning_line_and_still_synthesized(tmp_path, capsys):
    model = _vocabulary_model(tmp_path)
    argv = [
        "synthesize",
        "--model",
        str(model),
        "--text",
        "Hello, world. One.",
        "--out",
        str(tmp_path / "x.wav"),
    ]
    assert main(argv) == 0
    (line,) = _unseen_lines(capsys.readouterr().err)
    assert line.startswith("speech synthesize: warning: 'Hello, world. One.': 2 of 3 words (67%) never occur")
    assert "(hello, world)" in line and (tmp_path / "x.wav").is_file()
    argv = ["synthesize", "--model", str(model), "--text", "One, two.", "--out", str(tmp_path / "y.wav")]
    assert main(argv) == 0 and _unseen_lines(capsys.readouterr().err) == []


def test_a_checkpoint_without_training_words_does_not_check(tmp_path, checkpoints, capsys):
    argv = ["synthesize", "--model", str(checkpoints["tts"]), "--text", "Hello, world."]
    assert main([*argv, "--out", str(tmp_path / "x.wav")]) == 0
    assert _unseen_lines(capsys.readouterr().err) == []


def test_a_manifest_sums_up_unseen_word_texts_in_one_line(tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    texts = {"a": "hello world", "b": "one two", "c": "goodbye moon"}
    manifest.write_text(
        "".join(
            json.dumps({"id": i, "audio": "a.wav", "duration": 1.0, "sample_rate": 22050, "text": t}) + "\n"
            for i, t in texts.items()
        )
    )
    argv = ["synthesize", "--model", str(_vocabulary_model(tmp_path)), "--manifest", str(manifest)]
    assert main([*argv, "--out-dir", str(tmp_path / "out"), "--quiet"]) == 0
    (line,) = _unseen_lines(capsys.readouterr().err)
    assert line.startswith("speech synthesize: warning: 2 of 3 texts are mostly words the model never saw")
    assert "'hello world': 2 of 2 words (100%)" in line
    assert (tmp_path / "out" / "synth.jsonl").is_file()


def test_the_same_text_gives_the_same_wav_within_one_process(checkpoints):
    """Griffin-Lim's initial phases come from the inference seed, not from torch's global generator."""
    import torch

    from speech.inference import Synthesizer

    synth = Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=2)
    first, _ = synth.synthesize("Hello there.")
    torch.rand(5)  # another global state
    second, _ = synth.synthesize("Hello there.")
    assert torch.equal(first, second)
    other, _ = synth.with_inference(seed=1).synthesize("Hello there.")
    assert not torch.equal(first, other)


# --alignment FILE.png -----------------------------------------------------------------------------
TWO_SENTENCES = "Hello there. How are you?"


def _synthesize_text(model: Path, out: Path, *extra: str) -> int:
    """``speech synthesize --text`` of two sentences, with the global random generator disturbed.

    Griffin-Lim's first phases come from the inference seed, so the global state must not matter.
    """
    import torch

    torch.rand(3)  # advance the global generator: each call starts from another state
    argv = ["synthesize", "--model", str(model), "--text", TWO_SENTENCES, "--out", str(out)]
    return main([*argv, "--griffin-lim-iters", "2", "--quiet", *extra])


def test_alignment_plots_each_sentence_and_leaves_the_wav_alone(checkpoints, tmp_path, capsys, monkeypatch):
    """One panel per sentence, titled with it and its stop; the folder is made like --out's; same wav."""
    image = pytest.importorskip("matplotlib.image")
    from speech import plots

    drawn = []
    real = plots.save_alignments

    def spy(weights_list, path, titles=None, **kwargs):
        drawn.append(([w.shape for w in weights_list], list(titles), kwargs))
        real(weights_list, path, titles, **kwargs)

    monkeypatch.setattr(plots, "save_alignments", spy)
    assert _synthesize_text(checkpoints["tts"], tmp_path / "plain.wav") == 0
    assert drawn == []
    png = tmp_path / "plots" / "align.png"  # a missing folder is created, as for --out
    assert _synthesize_text(checkpoints["tts"], tmp_path / "plotted.wav", "--alignment", str(png)) == 0
    assert (tmp_path / "plotted.wav").read_bytes() == (tmp_path / "plain.wav").read_bytes()
    assert sorted(p.name for p in png.parent.iterdir()) == ["align.png"]  # no temporary file left
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.imread(png).ndim == 3
    ((shapes, titles, kwargs),) = drawn
    assert len(shapes) == 2 and all(steps > 0 and symbols > 0 for steps, symbols in shapes)
    assert kwargs == {"ylabel": "input symbol"}
    # the tiny random model never predicts a stop
    assert titles == [
        "1: Hello there. (no stop: cut at the frame limit)",
        "2: How are you? (no stop: cut at the frame limit)",
    ]
    assert "Hello there." in capsys.readouterr().err  # the cut sentences still warn


def test_save_alignments_draws_one_panel_per_matrix(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import torch

    from speech import plots

    closed = []
    monkeypatch.setattr(plots.plt, "close", lambda fig: closed.append(fig))
    weights = [torch.rand(7, 3), torch.rand(5, 4), torch.rand(2, 2)]
    titles = ["one", "costs $\\frac{$", "three"]  # '$' is text, not mathematics
    plots.save_alignments(weights, tmp_path / "a.png", titles, ylabel="input symbol")
    plots.save_alignment(weights[0], tmp_path / "b.png", title="single")
    (fig, single) = closed
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == titles
    assert [ax.images[0].get_array().shape for ax in panels] == [(3, 7), (4, 5), (2, 2)]  # symbols x steps
    assert {ax.get_xlabel() for ax in panels} == {"decoder step"}
    assert {ax.get_ylabel() for ax in panels} == {"input symbol"}
    assert [ax.get_title() for ax in single.axes if ax.images] == ["single"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]
    with pytest.raises(ValueError, match="2 titles for 3"):
        plots.save_alignments(weights, tmp_path / "c.png", titles[:2])
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--text-file", "{tmp}/in.txt", "--out-dir", "{tmp}/o", "--alignment", "{tmp}/a.png"],
            "goes with --text",
        ),
        (
            ["--manifest", "{tmp}/m.jsonl", "--out-dir", "{tmp}/o", "--alignment", "{tmp}/a.png"],
            "goes with --text",
        ),
        (["--text", "hi", "--out", "{tmp}/y.wav", "--alignment", "{tmp}/folder.png"], "is a folder"),
        (["--text", "hi", "--out", "{tmp}/y.wav", "--alignment", "{tmp}/blocker/a.png"], "not a folder"),
        (["--text", "hi", "--out", "{tmp}/y.wav", "--alignment", "{tmp}/./y.wav"], "also --out"),
        (["--text", "hi", "--out", "{tmp}/x.wav", "--alignment", "{tmp}/link.png"], "also --out"),
        (["--text", "hi", "--out", "{tmp}/y.wav", "--alignment", "-"], "stdout"),
        (["--text", "hi", "--out", "{tmp}/y.wav", "--alignment", "{tmp}/a.jpg"], "name a .png"),
    ],
)
def test_bad_alignment_options_are_refused_before_the_model_loads(tmp_path, capsys, args, message):
    (tmp_path / "blocker").write_text("a file")
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "in.txt").write_text("x\thello\n")
    (tmp_path / "x.wav").write_bytes(b"an older wav")
    (tmp_path / "link.png").symlink_to(tmp_path / "x.wav")
    _manifest(tmp_path / "m.jsonl", ["u1"])
    before = _files(tmp_path)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["synthesize", "--model", str(tmp_path / "missing.ckpt"), *args]) == 2
    assert message in _one_error(capsys)
    assert _files(tmp_path) == before
    assert (tmp_path / "x.wav").read_bytes() == b"an older wav"


def test_alignment_without_matplotlib_is_one_line_before_anything_is_written(
    checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.delitem(sys.modules, "speech.plots", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    out = tmp_path / "new" / "x.wav"
    argv = ["--alignment", str(tmp_path / "new" / "a.png")]
    assert _synthesize_text(checkpoints["tts"], out, *argv) == 2
    assert _one_error(capsys) == (
        "speech synthesize: error: --alignment needs matplotlib: pip install 'speech[train]'"
    )
    assert not (tmp_path / "new").exists()
