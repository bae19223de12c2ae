"""``speech export``: ONNX and TorchScript graphs that give PyTorch's outputs, and the ONNX runner.

Tolerances: log-probabilities and attention states within 1e-4 absolute (float32 graphs of the
same operations; the measured differences are about 1e-6), waveforms within 1e-4 absolute.
Decoded token sequences must be identical.
"""

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from speech.cli.main import main
from speech.errors import SpeechError
from speech.export import export_model
from speech.export.graph import FORMATS
from speech.inference import NeuralVocoder, Synthesizer, Transcriber, Translator
from speech.inference.onnx import OnnxRecognizer, OnnxSynthesizer, OnnxVocoder

ATOL = 1e-4


def _waves(seed: int, lengths: list[int]) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [0.1 * torch.randn(n, generator=g) for n in lengths]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", ["asr", "st", "tts", "vocoder"])
def test_graphs_match_their_pytorch_wrappers(checkpoints, tmp_path, task, fmt):
    """Each graph on the export's example inputs: every output, within the tolerance."""
    from speech.export.writer import _family
    from speech.inference.metadata import CheckpointMeta

    out = tmp_path / "out"
    result = export_model(checkpoints[task], out, fmt)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == task and sorted(manifest["files"]) == sorted(
        f.split(".")[0] for f in result.files
    )
    graphs, _ = _family(CheckpointMeta(checkpoints[task], task), task)
    for graph in graphs:
        entry = manifest["files"][graph.name]
        assert [i["name"] for i in entry["inputs"]] == graph.input_names
        expected = graph.outputs()
        path = str(out / entry["file"])
        if fmt == "onnx":
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            feeds = {n: t.numpy() for n, t in zip(graph.input_names, graph.inputs, strict=True)}
            got = [torch.from_numpy(np.asarray(o)) for o in session.run(None, feeds)]
        else:
            module = torch.jit.load(path)
            with torch.no_grad():
                got = module(*graph.inputs)
            got = list(got) if isinstance(got, tuple) else [got]
        assert len(got) == len(expected)
        for name, a, b in zip(graph.output_names, got, expected, strict=True):
            assert a.shape == b.shape, (graph.name, name)
            assert torch.allclose(a.to(b.dtype), b, atol=ATOL), (graph.name, name, (a - b).abs().max())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("task", ["asr", "vocoder"])
def test_dynamic_axes_take_other_batch_sizes_and_lengths(checkpoints, tmp_path, task, fmt):
    """The encoder (and the vocoder) at a batch size and lengths the export never saw.

    The decoder steps at other sizes are covered by the runners' tests below (other batches,
    other memory lengths).
    """
    from speech.export.writer import _family
    from speech.inference.metadata import CheckpointMeta

    export_model(checkpoints[task], tmp_path / "out", fmt)
    graph = _family(CheckpointMeta(checkpoints[task], task), task)[0][0]
    g = torch.Generator().manual_seed(3)
    inputs = (torch.randn(3, 61, graph.inputs[0].shape[2], generator=g) - 2.0, torch.tensor([61, 44, 9]))
    with torch.no_grad():
        expected = graph.module(*inputs)
    path = tmp_path / "out" / f"{graph.name}.{'onnx' if fmt == 'onnx' else 'pt'}"
    if fmt == "onnx":
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {n: t.numpy() for n, t in zip(graph.input_names, inputs, strict=True)})
        got = [torch.from_numpy(np.asarray(o)) for o in got]
    else:
        with torch.no_grad():
            got = list(torch.jit.load(str(path))(*inputs))
    lengths = {"memory": 1, "waveforms": 1}  # outputs compared over each item's valid part only
    for name, a, b in zip(graph.output_names, got, expected, strict=True):
        assert a.shape == b.shape, name
        if name in lengths:
            valid = got[graph.output_names.index("memory_lengths" if name == "memory" else "lengths")]
            for i, n in enumerate(valid.tolist()):
                assert torch.allclose(a[i, :n].to(b.dtype), b[i, :n], atol=ATOL), name
        else:
            assert torch.allclose(a.to(b.dtype), b, atol=ATOL), (name, (a.float() - b.float()).abs().max())


def test_onnx_greedy_recognizer_gives_pytorch_transcripts(checkpoints, tmp_path):
    export_model(checkpoints["asr"], tmp_path / "asr", "onnx")
    waves = _waves(0, [4000, 9000, 16000, 6400, 12000])
    ours = Transcriber.from_checkpoint(checkpoints["asr"]).transcribe(waves, beam_size=1, ctc_weight=0.0)
    onnx = OnnxRecognizer(tmp_path / "asr").transcribe(waves, batch_size=2)  # other batches than PyTorch's
    assert [r.tokens for r in onnx] == [r.tokens for r in ours]
    assert [r.text for r in onnx] == [r.text for r in ours]
    assert np.allclose([r.score for r in onnx], [r.score for r in ours], atol=ATOL)


def test_onnx_greedy_translator_gives_pytorch_translations(checkpoints, tmp_path):
    export_model(checkpoints["st"], tmp_path / "st", "onnx")
    waves = _waves(1, [5000, 11000, 8000])
    ours = Translator.from_checkpoint(checkpoints["st"]).translate(waves, beam_size=1)
    onnx = OnnxRecognizer(tmp_path / "st").transcribe(waves)
    assert [r.tokens for r in onnx] == [r.tokens for r in ours]


def test_onnx_synthesizer_and_vocoder_match_pytorch(checkpoints, tmp_path):
    """The whole free-running loop, prenet dropout streams and monotonic window included, batch of two."""
    export_model(checkpoints["tts"], tmp_path / "tts", "onnx")
    synth = Synthesizer.from_checkpoint(checkpoints["tts"], griffin_lim_iters=2)
    runner = OnnxSynthesizer(tmp_path / "tts", griffin_lim_iters=2)
    sentences = ["forty two", "nine"]
    ours, onnx = synth.synthesize_sentences(sentences), runner.synthesize_sentences(sentences)
    for a, b in zip(ours, onnx, strict=True):
        assert a.mel.shape == b.mel.shape and a.stopped == b.stopped
        assert np.allclose(a.mel.numpy(), b.mel, atol=ATOL)

    export_model(checkpoints["vocoder"], tmp_path / "voc", "onnx")
    g = torch.Generator().manual_seed(2)
    mel, lengths = torch.randn(3, 40, 80, generator=g) - 4.0, torch.tensor([40, 23, 31])
    with torch.no_grad():
        expected = NeuralVocoder.from_checkpoint(checkpoints["vocoder"])(mel, lengths)
    waves, wave_lengths = OnnxVocoder(tmp_path / "voc")(mel.numpy(), lengths.numpy())
    assert np.array_equal(wave_lengths, expected.lengths.numpy())
    for i, n in enumerate(wave_lengths):
        assert np.allclose(waves[i, :n], expected.waveforms[i, :n].numpy(), atol=ATOL)


def test_cli_exports_and_refuses_bad_input_in_one_line(checkpoints, tmp_path, capsys):
    out = tmp_path / "asr"
    assert main(["export", "--model", str(checkpoints["asr"]), "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "asr" and sorted(result["files"]) == ["decoder_step.onnx", "encoder.onnx"]
    before = sorted(p.name for p in out.iterdir())
    cases = [
        (["--model", str(checkpoints["asr"]), "--out", str(out)], "not empty"),
        (["--model", str(tmp_path / "missing.ckpt"), "--out", str(tmp_path / "m")], "no such checkpoint"),
        (["--model", str(checkpoints["lm"]), "--out", str(tmp_path / "lm")], "a lm checkpoint"),
        (["--model", str(checkpoints["asr"]), "--out", str(checkpoints["asr"])], "it is a file"),
    ]
    for argv, message in cases:
        assert main(["export", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    with pytest.raises(SystemExit) as exit_:
        main(
            ["export", "--model", str(checkpoints["asr"]), "--format", "tflite", "--out", str(tmp_path / "t")]
        )
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before  # the export the user had is untouched
    assert not list(tmp_path.glob(".*tmp"))  # no temporary folder left behind
    assert (
        main(
            [
                "export",
                "--model",
                str(checkpoints["asr"]),
                "--out",
                str(out),
                "--force",
                "--format",
                "torchscript",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["decoder_step.pt", "encoder.pt", "manifest.json"]


def test_a_crafted_manifest_cannot_point_outside_the_export_folder(checkpoints, tmp_path):
    folder = tmp_path / "asr"
    export_model(checkpoints["asr"], folder, "onnx")
    manifest = json.loads((folder / "manifest.json").read_text())
    outside = tmp_path / "elsewhere.onnx"
    (folder / "encoder.onnx").rename(outside)  # a real graph, but outside the folder
    for name, message in (
        ("../elsewhere.onnx", "holds a path separator"),
        (str(outside), "holds a path separator"),
        ("..", "names a folder"),
        ("encoder.onnx", "cannot load the ONNX graph"),  # inside, but missing
    ):
        manifest["files"]["encoder"]["file"] = name
        (folder / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(SpeechError, match=message) as error:
            OnnxRecognizer(folder)
        assert "\n" not in str(error.value)
    manifest["files"] = {"encoder": {"file": "encoder.onnx"}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SpeechError, match="'files' must map each graph"):
        OnnxRecognizer(folder)
