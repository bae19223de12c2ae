"""Decoding speed (RTF) of trained models on one CPU thread: ASR against pocketsphinx, TTS vocoders.

Usage: python bench/decoding.py [--rounds 3] [--utterances 16] [--sentences 4]
       [--asr CKPT] [--tts CKPT] [--vocoder CKPT] [--out rows.json] [--quick]

- ASR: our recognizer (beam 8 + CTC prefix score at the training weight, batches of 16 as
  ``speech transcribe`` decodes, front end included) against pocketsphinx (its US-English
  acoustic model with a trigram LM of the training texts, as recipes/mini/asr stage 3 runs it:
  ``speech.metrics.intelligibility.PocketsphinxRecognizer``) on the same utterances: the first
  ``--utterances`` of the mini ASR test set. The WER of both is noted.
- TTS: our Tacotron2 with the neural vocoder against the same with Griffin-Lim (32 iterations),
  sentence by sentence on the first ``--sentences`` texts of the mini TTS test set; the same
  decoder output feeds both vocoders (same seed).

RTF = compute seconds / seconds of audio (read or produced). Runs are interleaved (ours, peer,
...) after one warm-up each; the ratio is the median of the per-round peer time / our time.
The checkpoints default to the mini recipes' exp16 (else exp14) models; a row whose checkpoint is
missing is skipped with a note. ``--quick`` is a smoke run (2 rounds, 3 utterances, 2 sentences)
that uses tiny untrained checkpoints and generated recordings (bench/tiny.py) for what is missing.
``--out`` writes the rows of ``bench/suite.py`` (JSON).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402

timing.limit_environment_threads()

import argparse  # noqa: E402
import copy  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402

import tiny  # noqa: E402

from speech.audio import load  # noqa: E402
from speech.data import read_manifest  # noqa: E402
from speech.errors import SpeechError  # noqa: E402
from speech.metrics import error_rates  # noqa: E402
from speech.metrics.intelligibility import PocketsphinxRecognizer, normalize_for_wer  # noqa: E402

ROOT = timing.ROOT
ASR = timing.default_checkpoint("recipes/mini/asr/exp16/model.ckpt", "recipes/mini/asr/exp14/model.ckpt")
TTS = timing.default_checkpoint("recipes/mini/tts/exp16/model.ckpt", "recipes/mini/tts/exp14/model.ckpt")
VOCODER = timing.default_checkpoint(
    "recipes/mini/tts/exp16/vocoder/model.ckpt", "recipes/mini/tts/exp14/vocoder/model.ckpt"
)
ASR_TEST = ROOT / "recipes/mini/asr/data/corpus/test.jsonl"
ASR_TRAIN = ROOT / "recipes/mini/asr/data/corpus/train.jsonl"
TTS_TEST = ROOT / "recipes/mini/tts/data/corpus/tts/test.jsonl"
ASR_ROW = "ASR decoding RTF: ours (beam 8 + CTC) vs pocketsphinx"
TTS_ROW = "TTS synthesis RTF: Tacotron2 + neural vocoder vs + Griffin-Lim"


def asr_row(args: argparse.Namespace, model: Path, manifest: Path, lm_texts: list[str], command: str) -> dict:
    """Our recognizer against pocketsphinx on the same utterances."""
    from speech.inference import Transcriber

    try:
        peer = PocketsphinxRecognizer.from_texts(lm_texts)
    except SpeechError as e:  # pocketsphinx is not installed
        return timing.skipped(ASR_ROW, command, str(e))
    tr = Transcriber.from_checkpoint(model)
    utts = read_manifest(manifest)[: args.utterances]
    waves = [load(u.audio, tr.sample_rate) for u in utts]
    audio = sum(w.numel() for w in waves) / tr.sample_rate
    hyps: dict[str, list[str]] = {}

    def ours() -> None:
        hyps["ours"] = [r.text for r in tr.decode(waves, beam_size=8, batch_size=16)]

    def pocketsphinx() -> None:
        hyps["peer"] = [peer.recognize(w, tr.sample_rate) for w in waves]

    times = timing.interleaved({"ours": ours, "peer": pocketsphinx}, args.rounds)
    refs = [normalize_for_wer(u.text) for u in utts]
    wer = {k: 100 * error_rates(refs, [normalize_for_wer(h) for h in v]).wer for k, v in hyps.items()}
    return timing.row(
        ASR_ROW, [t / audio for t in times["ours"]], [t / audio for t in times["peer"]], "RTF",
        f"ours ({model.parent.name})", "pocketsphinx (task LM)", command,
        note=f"{len(utts)} utterances, {audio:.1f} s; WER ours {wer['ours']:.1f}%, "
        f"pocketsphinx {wer['peer']:.1f}%",
    )  # fmt: skip


def tts_row(args: argparse.Namespace, model: Path, vocoder, texts: list[str], command: str) -> dict:
    """Synthesis with the neural vocoder against Griffin-Lim; ``vocoder``: a checkpoint or a module."""
    from speech.inference.synthesizer import Synthesizer
    from speech.inference.vocoder import NeuralVocoder

    with_gl = Synthesizer.from_checkpoint(model, griffin_lim_iters=32)
    with_nv = copy.copy(with_gl)
    if isinstance(vocoder, Path):
        vocoder = NeuralVocoder.from_checkpoint(vocoder, features=with_gl.features)
    with_nv.vocoder = vocoder
    produced: dict[str, float] = {}

    def synthesize(synth, key: str) -> None:
        samples = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unseen words, cut sentences: timing only
            for text in texts:
                samples += synth.synthesize(text)[0].numel()
        produced[key] = samples / synth.sample_rate

    times = timing.interleaved(
        {"ours": lambda: synthesize(with_nv, "ours"), "peer": lambda: synthesize(with_gl, "peer")},
        args.rounds,
    )
    return timing.row(
        TTS_ROW, [t / produced["ours"] for t in times["ours"]], [t / produced["peer"] for t in times["peer"]],
        "RTF", "neural vocoder", "Griffin-Lim, 32 iterations", command,
        note=f"{len(texts)} sentences one by one, {produced['ours']:.1f} s of speech; {model.parent.name}",
    )  # fmt: skip


def tiny_vocoder():
    """A tiny random neural vocoder for the tiny TTS checkpoint's 8-mel features."""
    from speech.features import LogMelConfig
    from speech.inference.vocoder import NeuralVocoder
    from speech.models.vocoder import VocosConfig, VocosGenerator

    features = LogMelConfig.tts(n_mels=8)
    return NeuralVocoder(
        VocosGenerator(VocosConfig(n_mels=8, dim=16, intermediate_dim=32, layers=2), features)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--utterances", type=int, default=16)
    parser.add_argument("--sentences", type=int, default=4)
    parser.add_argument("--asr", type=Path, default=ASR)
    parser.add_argument("--tts", type=Path, default=TTS)
    parser.add_argument("--vocoder", type=Path, default=VOCODER)
    parser.add_argument("--out", type=Path, help="write the rows of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run (tiny models for what is missing)")
    args = parser.parse_args()
    command = timing.command_line("bench/decoding.py")
    if args.quick:
        args.rounds, args.utterances, args.sentences = 2, 3, 2
    timing.one_thread()
    present = lambda p: p is not None and p.is_file()  # noqa: E731
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        made: dict[str, Path] = {}

        def tiny_models() -> dict[str, Path]:
            if not made:
                made.update(tiny.checkpoints(Path(tmp) / "tiny"))
                made["corpus"] = tiny.noise_corpus(Path(tmp) / "corpus", args.utterances)
            return made

        if present(args.asr) and ASR_TEST.is_file() and ASR_TRAIN.is_file():
            texts = [u.text for u in read_manifest(ASR_TRAIN)]
            rows.append(asr_row(args, args.asr, ASR_TEST, texts, command))
        elif args.quick:
            m = tiny_models()
            texts = [u.text for u in read_manifest(m["corpus"])]
            rows.append(asr_row(args, m["asr"], m["corpus"], texts, command))
        else:
            reason = f"no ASR checkpoint or mini corpus ({args.asr}): run recipes/mini/asr"
            rows.append(timing.skipped(ASR_ROW, command, reason))

        texts = [u.text for u in read_manifest(TTS_TEST)][: args.sentences] if TTS_TEST.is_file() else []
        texts = texts or ["Four hundred and twelve.", "Seven thousand and one."][: args.sentences]
        if present(args.tts) and present(args.vocoder):
            rows.append(tts_row(args, args.tts, args.vocoder, texts, command))
        elif args.quick:
            rows.append(tts_row(args, tiny_models()["tts"], tiny_vocoder(), texts, command))
        else:
            reason = f"no TTS or vocoder checkpoint ({args.tts}, {args.vocoder}): run recipes/mini/tts"
            rows.append(timing.skipped(TTS_ROW, command, reason))
    timing.print_rows(rows)
    timing.write_json(args.out, {"script": "bench/decoding.py", "rows": rows})


if __name__ == "__main__":
    main()
