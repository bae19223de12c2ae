"""Tiny real checkpoints (random weights, real metadata) written without training.

Each ``write_*`` function saves what the matching task's ``on_save_checkpoint`` stores, in the
exported ``model.ckpt`` layout, and returns the path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from speech.decoding import SearchConfig
from speech.features import LogMelConfig
from speech.models.las import LASConfig, ListenAttendSpell
from speech.models.listener import ListenerConfig
from speech.models.lm import RNNLM, LMConfig
from speech.models.speller import SpellerConfig
from speech.models.tacotron2 import InferenceConfig, Tacotron2, Tacotron2Config
from speech.models.translator import SpeechTranslator, TranslatorConfig
from speech.text import CharTokenizer, tokenizer_to_dict
from speech.text.frontend import TextFrontEndConfig

SYMBOLS = list(" abcdefghijklmnopqrstuvwxyz'")
FORMAT_VERSION = 1
N_MELS = 8


def _listener(n_pyramid: int = 2) -> ListenerConfig:
    layers = max(2, n_pyramid)
    return ListenerConfig(input_dim=N_MELS, hidden_size=8, n_layers=layers, n_pyramid=n_pyramid, dropout=0.0)


def _speller() -> SpellerConfig:
    return SpellerConfig(
        embed_dim=8, hidden_size=16, attention_dim=8, location_filters=2, location_kernel=3, dropout=0.0
    )


def _features(**changes) -> dict:
    return LogMelConfig.asr(n_mels=N_MELS, **changes).to_dict()


def _cmvn(n: int = N_MELS) -> dict:
    return {"mean": [0.0] * n, "std": [1.0] * n}


def _save(path: Path, meta: dict, model: torch.nn.Module) -> Path:
    torch.manual_seed(0)
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"speech": {"format_version": FORMAT_VERSION, **meta}, "state_dict": state}, path)
    return path


def asr_checkpoint(path: Path, n_pyramid: int = 2, conv_channels: int = 0) -> Path:
    """A tiny LAS recognizer (char tokenizer, 8 mels, 10 ms hop)."""
    torch.manual_seed(0)
    tokenizer = CharTokenizer(SYMBOLS)
    listener = dataclasses.replace(_listener(n_pyramid), conv_channels=conv_channels)
    config = LASConfig(listener=listener, speller=_speller()).for_tokenizer(tokenizer, N_MELS)
    meta = {
        "task": "asr",
        "model": dataclasses.asdict(config),
        "features": _features(),
        "search": dataclasses.asdict(SearchConfig(beam_size=2, max_length_ratio=0.5)),
        "tokenizer": tokenizer_to_dict(tokenizer),
        "cmvn": _cmvn(),
    }
    return _save(path, meta, ListenAttendSpell(config))


def st_checkpoint(path: Path) -> Path:
    """A tiny speech translator without a source CTC head."""
    torch.manual_seed(0)
    tokenizer = CharTokenizer(SYMBOLS)
    config = TranslatorConfig(listener=_listener(), speller=_speller(), ctc_weight=0.0).for_tokenizer(
        tokenizer, N_MELS
    )
    meta = {
        "task": "st",
        "model": dataclasses.asdict(config),
        "features": _features(),
        "search": dataclasses.asdict(SearchConfig(beam_size=2, max_length_ratio=0.5)),
        "target_tokenizer": tokenizer_to_dict(tokenizer),
        "source_tokenizer": None,
        "target_lang": "de",
        "cmvn": _cmvn(),
    }
    return _save(path, meta, SpeechTranslator(config))


def lm_checkpoint(path: Path) -> Path:
    """A tiny RNN language model with the recognizer's tokenizer."""
    torch.manual_seed(0)
    tokenizer = CharTokenizer(SYMBOLS)
    config = LMConfig(vocab_size=tokenizer.vocab_size, embed_dim=8, hidden_size=8, dropout=0.0)
    meta = {"task": "lm", "model": dataclasses.asdict(config), "tokenizer": tokenizer_to_dict(tokenizer)}
    return _save(path, meta, RNNLM(config))


def tts_checkpoint(
    path: Path, speakers: list[str] | None = None, word_vocabulary: list[str] | None = None
) -> Path:
    """A tiny Tacotron2 (8 mels, 22.05 kHz) that stops after a few frames.

    ``word_vocabulary`` is stored as the training words when given; without it the checkpoint
    has none, as those written before the words were stored.
    """
    torch.manual_seed(0)
    tokenizer = CharTokenizer(SYMBOLS)
    config = Tacotron2Config(
        n_symbols=tokenizer.vocab_size,
        n_mels=N_MELS,
        n_speakers=len(speakers or []),
        speaker_dim=4,
        embedding_dim=8,
        encoder_convs=1,
        encoder_kernel=3,
        encoder_dim=8,
        prenet_dims=[8],
        attention_rnn_dim=8,
        decoder_rnn_dim=8,
        attention_dim=8,
        location_filters=2,
        location_kernel=3,
        postnet_layers=1,
        postnet_channels=8,
        postnet_kernel=3,
    )
    meta = {
        "task": "tts",
        "model": config.to_dict(),
        "features": LogMelConfig.tts(n_mels=N_MELS).to_dict(),
        "text": dataclasses.asdict(TextFrontEndConfig()),
        "inference": dataclasses.asdict(InferenceConfig(max_frames_per_symbol=1.0, min_max_frames=4)),
        "tokenizer": tokenizer_to_dict(tokenizer),
        "cmvn": _cmvn(),
        "speakers": list(speakers or []),
    }
    if word_vocabulary is not None:
        meta["word_vocabulary"] = sorted(word_vocabulary)
    return _save(path, meta, Tacotron2(config))


def all_checkpoints(root: Path) -> dict[str, Path]:
    """``{"asr", "st", "tts", "lm"}``: one tiny checkpoint of each task, written into ``root``."""
    return {
        "asr": asr_checkpoint(root / "asr.ckpt"),
        "st": st_checkpoint(root / "st.ckpt"),
        "tts": tts_checkpoint(root / "tts.ckpt"),
        "lm": lm_checkpoint(root / "lm.ckpt"),
    }
