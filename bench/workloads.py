"""Models at the recipes' sizes and synthetic batches for training-step benchmarks (CPU and GPU).

The ASR (LAS), ST and TTS models are built from a recipe config's ``model`` section (the mini
recipes' on CPU, the GPU configs on a GPU), with fixed vocabularies standing in for the
tokenizers. Batches are random features and tokens with lengths of real speech: 100 feature
frames and ~15 characters a second for ASR/ST, 86 mel frames (22.05 kHz, hop 256) and ~15
symbols a second for TTS. :func:`ljspeech_durations` draws utterance lengths like LJSpeech's
(1-10 s, mean ~6.5 s).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import torch

from speech.config import from_dict, load_yaml
from speech.models.s2t import S2TConfig, SpeechToText
from speech.models.tacotron2 import Tacotron2, Tacotron2Config, Tacotron2LossConfig, tacotron2_loss
from speech.models.translator import TranslatorConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "cpu": {
        "asr": ROOT / "recipes/mini/asr/conf/train.yaml",
        "st": ROOT / "recipes/mini/st/conf/train.yaml",
        "tts": ROOT / "recipes/mini/tts/conf/train.yaml",
    },
    "gpu": {
        "asr": ROOT / "recipes/ding/asr/conf/train_gpu.yaml",
        "st": ROOT / "recipes/ding/st/conf/train_gpu.yaml",
        "tts": ROOT / "recipes/ljspeech/tts/conf/train.yaml",
    },
}
VOCAB = {"asr": 32, "st": 48, "st_source": 32, "tts": 48}  # characters and the 4 special tokens
FEATURE_RATE, MEL_RATE, CHARS_PER_SECOND, N_MELS = 100.0, 22050 / 256, 15.0, 80


def ljspeech_durations(n: int, seed: int = 0) -> list[float]:
    """``n`` clip lengths in seconds like LJSpeech's: within 1-10 s, mean ~6.5 s, skewed long (Beta)."""
    rng = random.Random(seed)
    return [1.0 + 9.0 * rng.betavariate(2.6, 1.65) for _ in range(n)]


def build(
    kind: str, config: Path, tiny: bool = False, vocab: int | None = None, reduction: int | None = None
) -> torch.nn.Module:
    """The ``asr``, ``st`` or ``tts`` model of a recipe config (``tiny``: a few units per layer).

    ``vocab`` replaces the output vocabulary size of ASR/ST (and ST's source one), e.g. 500
    SentencePiece pieces for the GPU configs; the default is :data:`VOCAB`'s characters.
    ``reduction`` replaces Tacotron2's reduction factor.
    """
    section = dict(load_yaml(config).get("model", {}))
    if kind == "tts":
        section.update(n_symbols=VOCAB["tts"], n_mels=N_MELS)
        if reduction is not None:
            section["reduction_factor"] = reduction
        if tiny:
            section.update(embedding_dim=16, encoder_dim=16, prenet_dims=[16, 16], attention_rnn_dim=16,
                           decoder_rnn_dim=16, attention_dim=8, postnet_channels=16)  # fmt: skip
        return Tacotron2(from_dict(Tacotron2Config, section, str(config)))
    cls = TranslatorConfig if kind == "st" else S2TConfig
    c = from_dict(cls, section, str(config))
    listener = dataclasses.replace(c.listener, input_dim=N_MELS)
    speller = c.speller
    if tiny:
        listener = dataclasses.replace(listener, hidden_size=16, conv_channels=0)
        speller = dataclasses.replace(speller, embed_dim=8, hidden_size=16, attention_dim=8)
    fields = {"source_vocab_size": vocab or VOCAB["st_source"]} if kind == "st" else {}
    c = dataclasses.replace(c, vocab_size=vocab or VOCAB[kind], listener=listener, speller=speller, **fields)
    return SpeechToText(c)


@dataclass
class Batch:
    """Inputs of one training step (on one device)."""

    kind: str
    inputs: tuple[torch.Tensor, ...]
    frames: int  # real (unpadded) target frames: mel frames for TTS, feature frames for ASR/ST

    def to(self, device: str | torch.device) -> Batch:
        """The batch on ``device``."""
        return Batch(self.kind, tuple(x.to(device) for x in self.inputs), self.frames)


def _tokens(lengths: list[int], vocab: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for i, n in enumerate(lengths):
        out[i, :n] = torch.randint(4, vocab, (n,), generator=g)
    return out, torch.tensor(lengths)


def make_batch(
    kind: str,
    seconds: list[float],
    seed: int = 0,
    reduction: int = 1,
    vocab: int | None = None,
    tokens_per_second: float = CHARS_PER_SECOND,
) -> Batch:
    """A random batch of utterances of the given lengths, longest first (as the samplers sort them).

    ``vocab`` and ``tokens_per_second`` set the ASR/ST targets (default: characters, 15 a second).
    """
    g = torch.Generator().manual_seed(seed)
    seconds = sorted(seconds, reverse=True)
    chars = [max(2, round(CHARS_PER_SECOND * s)) for s in seconds]
    targets_per_item = [max(2, round(tokens_per_second * s)) for s in seconds]
    if kind == "tts":
        frames = [max(reduction, round(MEL_RATE * s / reduction) * reduction) for s in seconds]
        tokens, token_lengths = _tokens(chars, VOCAB["tts"], g)
        mels = torch.randn(len(seconds), max(frames), N_MELS, generator=g)
        mel_lengths = torch.tensor(frames)
        mels = mels * (torch.arange(max(frames))[None, :, None] < mel_lengths[:, None, None])
        return Batch(kind, (tokens, token_lengths, mels, mel_lengths), sum(frames))
    frames = [round(FEATURE_RATE * s) for s in seconds]
    features = torch.randn(len(seconds), max(frames), N_MELS, generator=g)
    targets, target_lengths = _tokens(targets_per_item, vocab or VOCAB[kind], g)
    inputs = (features, torch.tensor(frames), targets, target_lengths)
    if kind == "st":
        source_lengths = [max(2, round(0.8 * c)) for c in targets_per_item]
        source, source_lengths = _tokens(source_lengths, vocab or VOCAB["st_source"], g)
        inputs += (source, source_lengths)
    return Batch(kind, inputs, sum(frames))


TTS_LOSS = Tacotron2LossConfig(mel_loss="l1+mse", guided_weight=10.0)


def loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """The training loss of the batch (the tasks' losses: joint CTC-attention, Tacotron2's)."""
    if batch.kind == "tts":
        tokens, token_lengths, mels, mel_lengths = batch.inputs
        out = model(tokens, token_lengths, mels, mel_lengths)
        return tacotron2_loss(out, mels, mel_lengths, token_lengths, TTS_LOSS).loss
    return model(*batch.inputs).loss


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, dtype: torch.dtype | None
) -> float:
    """Forward (autocast to ``dtype`` unless None), backward, clip, AdamW step; the loss."""
    device_type = batch.inputs[0].device.type
    with torch.autocast(device_type, dtype=dtype, enabled=dtype is not None):
        value = loss(model, batch)
    optimizer.zero_grad(set_to_none=True)
    value.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    return float(value.detach())
