"""`make demo`: run the part of the pipeline that exists, on a tiny corpus built offline.

Builds a few dozen spoken numbers with flite and espeak-ng, validates the manifests, trains
a character tokenizer, computes CMVN statistics, batches the audio with the length-bucketed
sampler, computes log-mel features, inverts one utterance back to audio with Griffin-Lim,
and scores a transcript. Everything lands in exp/demo/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from speech.audio import save
from speech.data import Collate, LengthBucketSampler, SpeechDataset, read_manifest
from speech.features import CMVNStats, GlobalCMVN, LogMel, LogMelConfig, MelInverter
from speech.text import load_tokenizer

OUT = Path("exp/demo")


def speech(*args: str) -> None:
    print("$ speech " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "speech", *args], check=True)


def main() -> None:
    data = OUT / "data"
    speech(
        "prepare",
        "mini",
        "--out-dir",
        str(data),
        "--train",
        "48",
        "--dev",
        "8",
        "--test",
        "8",
        "--tts-train",
        "4",
        "--tts-dev",
        "2",
        "--tts-test",
        "2",
        "--quiet",
    )
    speech(
        "prepare", "tokenizer", "--manifest", str(data / "train.jsonl"), "--out", str(OUT / "tokenizer.json")
    )
    speech("prepare", "cmvn", "--manifest", str(data / "train.jsonl"), "--out", str(OUT / "cmvn.json"))

    train = read_manifest(data / "train.jsonl", check_audio=True)
    tokenizer = load_tokenizer(OUT / "tokenizer.json")
    dataset = SpeechDataset(train, 16000, text_tokenizer=tokenizer)
    sampler = LengthBucketSampler(dataset.durations(), max_frames=20.0, seed=0)
    print(
        f"\n{len(train)} training utterances -> {len(sampler)} batches of <= 20 s padded audio, "
        f"{100 * sampler.padding_fraction():.1f}% padding"
    )
    batch = Collate(tokenizer.pad_id)([dataset[i] for i in next(iter(sampler))])
    logmel = LogMel(LogMelConfig.asr())
    cmvn = GlobalCMVN.from_stats(CMVNStats.load(OUT / "cmvn.json"))
    feats, frame_lengths = logmel(batch.waveforms, batch.waveform_lengths)
    feats = cmvn(feats, frame_lengths)
    print(
        f"first batch: waveforms {tuple(batch.waveforms.shape)} -> log-mel {tuple(feats.shape)}, "
        f"tokens {tuple(batch.text.shape)}"
    )
    print(f"  '{tokenizer.decode(batch.text[0].tolist())}' ({batch.ids[0]})")

    tts = read_manifest(data / "tts" / "train.jsonl")[0]
    tts_config = LogMelConfig.tts()
    from speech.audio import load

    wav = load(tts.audio, tts_config.sample_rate)
    mel, mel_lengths = LogMel(tts_config)(wav[None], torch.tensor([wav.numel()]))
    inverted = MelInverter(tts_config, n_iter=32)(mel, mel_lengths)
    save(OUT / "griffin_lim.wav", inverted.waveforms[0], tts_config.sample_rate)
    print(f"\n'{tts.text}': {mel.shape[1]} mel frames -> Griffin-Lim -> {OUT / 'griffin_lim.wav'}")

    ref, hyp = OUT / "ref.txt", OUT / "hyp.txt"
    ref.write_text("".join(f"{u.id}\t{u.text}\n" for u in train[:8]))
    hyp.write_text("".join(f"{u.id}\t{u.text.replace('hundred', 'hundreds')}\n" for u in train[:8]))
    print()
    speech("score", "wer", "--ref", str(ref), "--hyp", str(hyp))
    print("\nThe recognizer, synthesizer and translator recipes build on these pieces.")


if __name__ == "__main__":
    main()
