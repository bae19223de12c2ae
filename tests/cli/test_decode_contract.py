"""The CLI contract of ``speech transcribe`` and ``speech translate`` (issue 12).

Classes covered: audio too short for the model (a per-file error, the rest decoded), option
values NaN/out of range and unknown devices (argparse one-liners), outputs checked before the
work starts, ``--out``/``--output``, ``--out -`` for stdout, ``--json`` and ``--quiet``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from speech.cli.main import build_parser, main

COMMANDS = {"transcribe": ("asr", "text"), "translate": ("st", "translation")}


@pytest.fixture
def audio(tmp_path: Path) -> dict[str, Path]:
    """Two good files, a 10 ms and a 20 ms one, and a manifest of all four (ids g1, s10, g2, s20)."""
    rng = np.random.default_rng(0)
    lengths = {"g1": 8000, "s10": 160, "g2": 6000, "s20": 320}
    paths = {}
    for name, n in lengths.items():
        paths[name] = tmp_path / f"{name}.wav"
        sf.write(paths[name], (0.1 * rng.standard_normal(n)).astype(np.float32), 16000)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        "".join(
            json.dumps(
                {"id": k, "audio": f"{k}.wav", "duration": n / 16000, "sample_rate": 16000}
                | {"text": f"text {k}", "translation": f"Text {k}"}
            )
            + "\n"
            for k, n in lengths.items()
        )
    )
    paths["manifest"] = manifest
    return paths


def _errors(capsys) -> tuple[str, list[str]]:
    captured = capsys.readouterr()
    return captured.out, captured.err.strip().splitlines()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_too_short_files_are_per_file_errors_and_the_rest_are_decoded(checkpoints, audio, capsys, command):
    task, _ = COMMANDS[command]
    files = [str(audio[k]) for k in ("s10", "g1", "s20", "g2")]
    code = main([command, "--model", str(checkpoints[task]), "--batch-size", "1", "--beam", "1", *files])
    out, err = _errors(capsys)
    assert code == 2
    assert [line.split("\t")[0] for line in out.splitlines()] == [files[1], files[3]]
    assert err == [
        f"speech {command}: error: {files[0]}: too short for this model (10 ms; needs at least 30 ms)",
        f"speech {command}: error: {files[2]}: too short for this model (20 ms; needs at least 30 ms)",
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_manifest_with_too_short_utterances_lists_every_id_and_exits_2(
    checkpoints, audio, tmp_path, capsys, command
):
    task, field = COMMANDS[command]
    out = tmp_path / "dec" / "hyp.txt"
    argv = [
        command,
        "--model",
        str(checkpoints[task]),
        "--manifest",
        str(audio["manifest"]),
        "--out",
        str(out),
    ]
    assert main([*argv, "--beam", "1"]) == 2
    _, err = _errors(capsys)
    assert len(err) == 3 and "utterance 's10'" in err[0] and "too short" in err[0] and "'s20'" in err[1]
    assert json.loads(err[2])["failed"] == ["s10", "s20"]
    hyp = [line.split("\t") for line in out.read_text().splitlines()]
    assert [h[0] for h in hyp] == ["g1", "s10", "g2", "s20"] and hyp[1][1] == "" and hyp[3][1] == ""
    assert (out.parent / "ref.txt").read_text().splitlines()[0] == "g1\t" + (
        "text g1" if task == "asr" else "Text g1"
    )
    assert json.loads((out.parent / "hyp.stats.json").read_text())["failed"] == ["s10", "s20"]


def test_manifest_where_nothing_decodes_writes_nothing(checkpoints, tmp_path, audio, capsys):
    manifest = tmp_path / "short.jsonl"
    manifest.write_text(audio["manifest"].read_text().splitlines()[1] + "\n")
    out = tmp_path / "dec" / "hyp.txt"
    assert (
        main(
            ["transcribe", "--model", str(checkpoints["asr"]), "--manifest", str(manifest), "--out", str(out)]
        )
        == 2
    )
    assert len(_errors(capsys)[1]) == 1
    assert not out.exists() and not (out.parent / "ref.txt").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--device", "tpu9"],
        ["--device", "auto:0"],
        ["--threads", "-3"],
        ["--beam", "0"],
        ["--beam", "nan"],
        ["--batch-size", "0"],
        ["--lm-weight", "nan"],
        ["--lm-weight", "-1"],
        ["--ctc-weight", "nan"],
        ["--ctc-weight", "1"],
        ["--ctc-weight", "inf"],
    ],
)
def test_bad_option_values_are_argparse_one_liners(capsys, argv):
    command = "translate" if argv[0] in ("--beam",) and argv[1] == "nan" else "transcribe"
    with pytest.raises(SystemExit) as exit_:
        main([command, "--model", "m.ckpt", *argv, "x.wav"])
    assert exit_.value.code == 2
    _, err = _errors(capsys)
    assert len(err) == 1 and err[0].startswith(f"speech {command}: error: argument {argv[0]}")


@pytest.mark.parametrize("command", ["transcribe", "translate", "synthesize"])
def test_device_defaults_to_auto(command):
    extra = ["--text", "a", "--out", "x.wav"] if command == "synthesize" else ["x.wav"]
    assert build_parser().parse_args([command, "--model", "m", *extra]).device == "auto"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_one_line(checkpoints, audio, capsys):
    assert main(["transcribe", "--model", str(checkpoints["asr"]), "--device", "cuda", str(audio["g1"])]) == 2
    assert _errors(capsys)[1] == [
        "speech transcribe: error: device 'cuda': no CUDA device is available on this machine"
    ]


def test_auto_device_decodes(checkpoints, audio, capsys):
    assert main(["transcribe", "--model", str(checkpoints["asr"]), "--device", "auto", str(audio["g1"])]) == 0
    assert _errors(capsys)[0].startswith(str(audio["g1"]))


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: the error must come before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the outputs were checked")

    from speech.inference import Transcriber, Translator

    monkeypatch.setattr(Transcriber, "from_checkpoint", refuse)
    monkeypatch.setattr(Translator, "from_checkpoint", refuse)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    "case", ["parent is a file", "out is a folder", "ref.txt is a folder", "named ref.txt"]
)
def test_unwritable_outputs_are_refused_before_the_work(no_model, audio, tmp_path, capsys, command, case):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    out = {
        "parent is a file": blocker / "hyp.txt",
        "out is a folder": tmp_path,
        "ref.txt is a folder": tmp_path / "d" / "hyp.txt",
        "named ref.txt": tmp_path / "ref.txt",
    }[case]
    (tmp_path / "d" / "ref.txt").mkdir(parents=True)
    argv = [command, "--model", "m.ckpt", "--manifest", str(audio["manifest"]), "--out", str(out)]
    assert main(argv) == 2
    _, err = _errors(capsys)
    assert len(err) == 1 and err[0].startswith(f"speech {command}: error: ")
    assert blocker.read_text() == "a file"


def test_old_output_spelling_still_works_and_is_hidden(checkpoints, audio, tmp_path, capsys):
    out = tmp_path / "hyp.txt"
    argv = ["transcribe", "--model", str(checkpoints["asr"]), "--manifest", str(audio["manifest"])]
    assert main([*argv, "--output", str(out), "--beam", "1"]) == 2  # two utterances are too short
    assert len(out.read_text().splitlines()) == 4
    help_text = build_parser()._subparsers._group_actions[0].choices["transcribe"].format_help()
    assert "--out FILE" in help_text and "--output" not in help_text


@pytest.mark.parametrize("out", [None, "-"])
def test_out_dash_writes_stdout_and_no_files(checkpoints, audio, tmp_path, capsys, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    argv = ["translate", "--model", str(checkpoints["st"]), "--manifest", str(audio["manifest"]), "--quiet"]
    assert main(argv + (["--out", out] if out else [])) == 2
    stdout, err = _errors(capsys)
    assert [line.split("\t")[0] for line in stdout.splitlines()] == ["g1", "s10", "g2", "s20"]
    assert len(err) == 2  # the two short utterances; --quiet leaves out the statistics
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "h.txt", "{g1}"], "--out goes with --manifest"),
        (["--manifest", "{manifest}", "{g1}"], "not both"),
        ([], "give audio FILEs or --manifest"),
    ],
)
def test_option_combinations(no_model, audio, capsys, extra, message):
    extra = [a.format(**audio) for a in extra]
    assert main(["transcribe", "--model", "m.ckpt", *extra]) == 2
    _, err = _errors(capsys)
    assert len(err) == 1 and message in err[0]


def test_json_output(checkpoints, audio, tmp_path, capsys):
    model = str(checkpoints["asr"])
    assert main(["transcribe", "--model", model, "--json", str(audio["g1"])]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == str(audio["g1"]) and isinstance(record["text"], str)
    assert (
        main(["transcribe", "--model", model, "--json", "--quiet", "--manifest", str(audio["manifest"])]) == 2
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == ["g1", "s10", "g2", "s20"]
    assert "too short" in records[1]["error"] and "error" not in records[0]
    out = tmp_path / "hyp.txt"
    argv = ["transcribe", "--model", model, "--json", "--manifest", str(audio["manifest"]), "--out", str(out)]
    assert main(argv) == 2
    summary = json.loads(capsys.readouterr().out)
    assert (
        summary["hypotheses"] == str(out)
        and summary["utterances"] == 4
        and summary["failed"] == ["s10", "s20"]
    )


def test_manifest_ids_that_cannot_key_a_line(no_model, tmp_path, audio, capsys):
    manifest = tmp_path / "tab.jsonl"
    record = json.loads(audio["manifest"].read_text().splitlines()[0]) | {"id": "a\tb"}
    manifest.write_text(json.dumps(record) + "\n")
    assert main(["transcribe", "--model", "m.ckpt", "--manifest", str(manifest)]) == 2
    assert len(_errors(capsys)[1]) == 1


def test_no_traceback_from_the_real_command(checkpoints, audio):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speech",
            "transcribe",
            "--model",
            str(checkpoints["asr"]),
            "--batch-size",
            "1",
        ]
        + [str(audio["s10"]), str(audio["g1"])],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stdout.startswith(str(audio["g1"]) + "\t") and len(proc.stderr.strip().splitlines()) == 1
