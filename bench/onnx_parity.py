"""ONNX exports against PyTorch: the same transcripts, translations, mels and waveforms.

Exports the models with ``speech.export.export_model`` into a temporary folder, runs them with the
reference runner :mod:`speech.inference.onnx` (onnxruntime) and compares with the PyTorch
inference classes, at one thread:

* ASR and ST: greedy decoding (``beam_size=1, ctc_weight=0``) of a manifest's utterances; the
  number of identical outputs, each side's WER (or BLEU), the largest score difference, and the
  decoding time of each side;
* TTS: free-running synthesis of texts (the Tacotron2 with its inference dropout streams), the
  largest log-mel difference and whether both stopped at the same frame;
* vocoder: the largest waveform difference on the TTS model's mels.

``--quick`` uses the tiny checkpoints given on the command line and a few utterances (the test
suite runs it). Usage:

    python bench/onnx_parity.py --asr recipes/mini/asr/exp14/model.ckpt \\
        --manifest recipes/mini/asr/data/corpus/test.jsonl --tts recipes/mini/tts/exp14/model.ckpt \\
        --vocoder recipes/mini/tts/exp14/vocoder/model.ckpt --out onnx_parity.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEXTS = ["Forty-two.", "It costs five dollars.", "Nine hundred and one.", "Seventeen thousand."]


def s2t_parity(ckpt: str, manifest: str, limit: int | None, folder: Path) -> dict:
    """Greedy transcripts (or translations) of ONNX and PyTorch on a manifest's utterances."""
    from speech.data import read_manifest
    from speech.export import export_model
    from speech.inference import S2TRunner
    from speech.inference.onnx import OnnxRecognizer
    from speech.metrics import error_rates
    from speech.metrics.intelligibility import normalize_for_wer

    export_model(ckpt, folder, "onnx")
    utterances = read_manifest(manifest)[:limit]
    files = [u.audio for u in utterances]
    runner, onnx = S2TRunner.from_checkpoint(ckpt), OnnxRecognizer(folder, threads=1)
    start = time.perf_counter()
    ours = runner.decode(files, beam_size=1, ctc_weight=0.0)
    torch_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = onnx.transcribe(files)
    onnx_s = time.perf_counter() - start
    refs = [normalize_for_wer(u.text or "") for u in utterances]
    result = {
        "model": ckpt,
        "task": onnx.manifest["task"],
        "utterances": len(files),
        "identical": sum(a.text == b.text for a, b in zip(ours, theirs, strict=True)),
        "max_score_difference": max(abs(a.score - b.score) for a, b in zip(ours, theirs, strict=True)),
        "pytorch_seconds": torch_s,
        "onnx_seconds": onnx_s,
    }
    if result["task"] == "asr":
        result["pytorch_wer"] = error_rates(refs, [normalize_for_wer(r.text) for r in ours]).wer
        result["onnx_wer"] = error_rates(refs, [normalize_for_wer(r.text) for r in theirs]).wer
    return result


def tts_parity(tts: str, vocoder: str | None, texts: list[str], folder: Path) -> dict:
    """Free-running synthesis of ONNX and PyTorch: largest log-mel and waveform differences."""
    from speech.export import export_model
    from speech.inference import NeuralVocoder, Synthesizer
    from speech.inference.onnx import OnnxSynthesizer, OnnxVocoder

    export_model(tts, folder / "tts", "onnx")
    synth = Synthesizer.from_checkpoint(tts)
    onnx = OnnxSynthesizer(folder / "tts")
    ours = synth.synthesize_sentences(texts)
    theirs = onnx.synthesize_sentences(texts)
    same_length = [a.mel.shape[0] == b.mel.shape[0] for a, b in zip(ours, theirs, strict=True)]
    mel_diff = max(
        float(np.abs(a.mel.numpy() - b.mel).max())
        for a, b, same in zip(ours, theirs, same_length, strict=True)
        if same
    )
    mean_diff = float(
        np.mean(
            [
                np.abs(a.mel.numpy() - b.mel).mean()
                for a, b, same in zip(ours, theirs, same_length, strict=True)
                if same
            ]
        )
    )
    result = {
        "model": tts,
        "texts": len(texts),
        "mean_log_mel_difference": mean_diff,
        "same_frames_and_stop": sum(
            same and a.stopped == b.stopped for a, b, same in zip(ours, theirs, same_length, strict=True)
        ),
        "max_log_mel_difference": mel_diff,
    }
    if vocoder is not None:
        export_model(vocoder, folder / "vocoder", "onnx")
        mels = [u.mel for u in ours]
        frames = max(m.shape[0] for m in mels)
        batch = torch.stack([torch.nn.functional.pad(m, (0, 0, 0, frames - m.shape[0])) for m in mels])
        lengths = torch.tensor([m.shape[0] for m in mels])
        with torch.no_grad():
            out = NeuralVocoder.from_checkpoint(vocoder)(batch, lengths)
        waves, wave_lengths = OnnxVocoder(folder / "vocoder")(batch.numpy(), lengths.numpy())
        assert np.array_equal(wave_lengths, out.lengths.numpy())
        result["vocoder"] = vocoder
        result["max_waveform_difference"] = max(
            float(np.abs(out.waveforms[i, :n].numpy() - waves[i, :n]).max())
            for i, n in enumerate(wave_lengths)
        )
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--asr", help="ASR checkpoint")
    p.add_argument("--st", help="ST checkpoint")
    p.add_argument("--manifest", help="utterances for --asr and --st")
    p.add_argument("--tts", help="TTS checkpoint")
    p.add_argument("--vocoder", help="vocoder checkpoint (with --tts)")
    p.add_argument("--limit", type=int, default=None, help="first N utterances only")
    p.add_argument("--quick", action="store_true", help="smoke run: 4 utterances, 2 texts")
    p.add_argument("--out", help="write the results as JSON")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    limit = 4 if args.quick else args.limit
    results: dict = {"threads": 1}
    with tempfile.TemporaryDirectory(prefix="onnx-parity-") as tmp:
        if args.asr:
            results["asr"] = s2t_parity(args.asr, args.manifest, limit, Path(tmp) / "asr")
        if args.st:
            results["st"] = s2t_parity(args.st, args.manifest, limit, Path(tmp) / "st")
        if args.tts:
            texts = TEXTS[:2] if args.quick else TEXTS
            results["tts"] = tts_parity(args.tts, args.vocoder, texts, Path(tmp))
    print(json.dumps(results, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
