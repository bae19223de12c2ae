"""``speech score tts --copy-synthesis`` and ``--vocoder`` (issue 15): the recordings through a vocoder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from speech.features import LogMelConfig
from speech.metadata import VocoderMeta, to_dict
from tests.data_prep.fixtures import assert_one_line_error, run_cli
from tests.inference.tiny import tts_checkpoint

GRIFFIN_LIM = "copy-synthesis (Griffin-Lim 32)"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two flite sentences (16 kHz) as the reference manifest, and a synth folder of the same audio."""
    pytest.importorskip("pocketsphinx")
    from tests.metrics.flite import render

    manifest = render(tmp_path_factory.mktemp("flite"))
    records = [json.loads(line) for line in manifest.read_text().splitlines()[:2]]
    reference = manifest.parent / "ref.jsonl"
    reference.write_text("".join(json.dumps(r) + "\n" for r in records))
    synth = manifest.parent / "exp" / "synth_test"
    synth.mkdir(parents=True)
    absolute = [{**r, "audio": str(manifest.parent / r["audio"])} for r in records]
    (synth / "synth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in absolute))
    (synth / "synth.stats.json").write_text('{"rtf": 0.5, "griffin_lim_iters": 32}')
    return synth, reference


def tiny_vocoder(path: Path) -> Path:
    """An untrained vocoder checkpoint (22.05 kHz, 20 mels), as ``speech train vocoder`` exports one."""
    from speech.tasks.vocoder import VocoderConfig, VocoderTask

    torch.manual_seed(0)
    config = VocoderConfig(features=LogMelConfig.tts(n_mels=20))
    config.model.dim, config.model.intermediate_dim, config.model.layers = 8, 8, 1
    config.discriminator.periods, config.discriminator.resolutions = (2,), ()
    task = VocoderTask(config)
    meta = VocoderMeta(task="vocoder", model=task.model_config, features=config.features)
    torch.save({"speech": to_dict(meta), "state_dict": task.state_dict()}, path)
    return path


def _argv(scored: tuple[Path, Path], *extra: str) -> list[str]:
    synth, ref = scored
    return ["score", "tts", "--synth-dir", str(synth), "--ref", str(ref), "--train", str(ref), *extra]


def _rows(report: str) -> dict[str, list[str]]:
    """The audio table of the report: ``{audio: [the cells after it]}``, in table order."""
    lines = report.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| audio |")) + 2  # after the rule
    table = lines[first : lines.index("", first)]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.split("|")[1:-1]] for row in table)}


def test_copy_synthesis_adds_a_griffin_lim_row_with_stoi_and_pesq(
    scored: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    code, report, _ = run_cli(_argv(scored, "--copy-synthesis", "--out", "-"), capsys)
    assert code == 0, report
    assert "| DNSMOS P.808 | DNSMOS OVRL | STOI | PESQ (WB) |" in report
    rows = _rows(report)
    assert list(rows) == ["synthesized", GRIFFIN_LIM, "reference"]
    utterances, wer, _, mcd, p808, ovrl, stoi, pesq = rows[GRIFFIN_LIM]
    assert utterances == "2" and float(wer) <= 50.0  # the recordings, vocoded, still say their words
    assert 0.0 < float(mcd) < 5.0 and 1.0 <= float(p808) <= 5.0 and 1.0 <= float(ovrl) <= 5.0
    assert 0.5 < float(stoi) <= 1.0  # real speech through Griffin-Lim stays intelligible
    if importlib.util.find_spec("pesq") is not None:
        assert 1.0 <= float(pesq) <= 4.65
    else:
        assert pesq == "–" and "the `pesq` package is not installed" in report
    for name in ("synthesized", "reference"):  # not time-aligned with a recording: no fidelity scores
        assert rows[name][-2:] == ["–", "–"]
    assert "copy-synthesis = the recordings' own log-mels" in report and "STOI (0 to 1)" in report
    assert "TTS model + Griffin-Lim, 32 iterations" in report


def test_vocoder_adds_its_row_beside_griffin_lims_on_its_features(
    scored: tuple[Path, Path], capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    vocoder = tiny_vocoder(tmp_path / "vocoder.ckpt")
    out = tmp_path / "RESULTS.md"
    code, printed, _ = run_cli(_argv(scored, "--vocoder", str(vocoder), "--out", str(out), "--json"), capsys)
    assert code == 0, printed
    figures = json.loads(printed)
    assert figures["vocoder"] == str(vocoder)
    assert [k for k in figures if k in ("synthesized", "copy_griffin_lim", "copy_vocoder", "reference")] == [
        "synthesized",
        "copy_griffin_lim",
        "copy_vocoder",
        "reference",
    ]
    neural, griffin_lim = figures["copy_vocoder"], figures["copy_griffin_lim"]
    assert neural["label"] == f"copy-synthesis (vocoder `{vocoder}`)" and griffin_lim["label"] == GRIFFIN_LIM
    for row in (neural, griffin_lim):
        assert row["utterances"] == 2 and row["mcd"] > 0 and 1.0 <= row["dnsmos_p808"] <= 5.0
        assert -1.0 <= row["stoi"] <= 1.0 and 0.0 <= row["pocketsphinx_wer"]
        assert row["pesq"] is None or 1.0 <= row["pesq"] <= 4.65
    assert griffin_lim["stoi"] > 0.5  # on the vocoder's 20 mels, still far better than an untrained vocoder
    assert griffin_lim["stoi"] > neural["stoi"] and griffin_lim["mcd"] < neural["mcd"]
    assert figures["synthesized"]["stoi"] is None and figures["reference"]["pesq"] is None
    rows = _rows(out.read_text())
    assert rows[f"copy-synthesis (vocoder `{vocoder}`)"][-2] == f"{neural['stoi']:.3f}"


@pytest.mark.parametrize("case", ["missing", "tts checkpoint", "not a checkpoint"])
def test_a_bad_vocoder_is_one_line_before_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str
) -> None:
    synth = tmp_path / "exp" / "synth_test"
    synth.mkdir(parents=True)
    vocoder = tmp_path / "vocoder.ckpt"
    if case == "tts checkpoint":
        tts_checkpoint(vocoder)
    elif case == "not a checkpoint":
        vocoder.write_text("hello")
    missing = str(tmp_path / "missing.jsonl")  # scoring would fail on these: the vocoder fails first
    argv = ["score", "tts", "--synth-dir", str(synth), "--ref", missing, "--train", missing]
    code, _, err = run_cli([*argv, "--vocoder", str(vocoder), "--out", "-"], capsys)
    problem = {
        "missing": "no such checkpoint",
        "tts checkpoint": "a tts checkpoint, not a vocoder",
        "not a checkpoint": "not a readable checkpoint",
    }
    assert_one_line_error(code, err, f"{vocoder}: {problem[case]}")


def test_several_synth_dirs_are_scored_side_by_side_named_by_their_vocoder(
    scored: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    synth, ref = scored
    other = tmp_path / "synth_test_vocoder"
    other.mkdir()
    records = [json.loads(line) for line in (synth / "synth.jsonl").read_text().splitlines()]
    (other / "synth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in reversed(records)))
    (other / "synth.stats.json").write_text('{"rtf": 0.01, "vocoder": "voc.ckpt"}')
    argv = _argv(scored, "--synth-dir", str(other), "--out", "-")
    code, report, _ = run_cli(argv, capsys)
    assert code == 0, report
    rows = _rows(report)
    assert list(rows) == ["synthesized (Griffin-Lim 32)", "synthesized (vocoder `voc.ckpt`)", "reference"]
    assert rows["synthesized (Griffin-Lim 32)"] == rows["synthesized (vocoder `voc.ckpt`)"]  # the same audio
    assert "| synthesized (vocoder `voc.ckpt`) | – | – |" in report  # its own statistics row
    (other / "synth.jsonl").write_text(json.dumps(records[0]) + "\n")
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, "its ids differ")
