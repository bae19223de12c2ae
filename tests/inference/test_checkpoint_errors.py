"""A checkpoint with our task tag but bad metadata or weights is a one-line SpeechError naming the file.

Covers issue 12's class "a checkpoint with our task tag but missing or extra settings, or weights
of the wrong shape, raises KeyError, TypeError or RuntimeError", for every loader.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from speech.errors import SpeechError
from speech.inference import Transcriber, Translator
from speech.inference.synthesizer import Synthesizer
from speech.inference.transcriber import load_lm
from speech.text import CharTokenizer
from tests.inference.tiny import SYMBOLS

LOADERS: dict[str, Callable[[Path], object]] = {
    "asr": Transcriber.from_checkpoint,
    "st": Translator.from_checkpoint,
    "tts": lambda path: Synthesizer.from_checkpoint(path, griffin_lim_iters=1),
    "lm": lambda path: load_lm(path, CharTokenizer(SYMBOLS)),
}
INT_KEY = {"asr": "vocab_size", "st": "vocab_size", "tts": "n_symbols", "lm": "vocab_size"}
FLOAT_KEY = {"asr": "label_smoothing", "st": "label_smoothing", "tts": "prenet_dropout", "lm": "dropout"}


def _drop_size(model: dict, task: str) -> None:
    """Remove a size setting: its default (much larger) no longer fits the weights."""
    if task in ("asr", "st"):
        del model["speller"]["embed_dim"]
    else:
        del model["embedding_dim" if task == "tts" else "embed_dim"]


def _first_weight(ckpt: dict) -> str:
    return next(k for k, v in ckpt["state_dict"].items() if v.dim() == 2)


EDITS: dict[str, tuple[Callable[[dict, str], None], str]] = {
    "missing entry": (lambda c, t: c["speech"].pop("model"), "no 'model' entry"),
    "model not a mapping": (lambda c, t: c["speech"].__setitem__("model", [1, 2]), "expected a mapping"),
    "unknown setting": (
        lambda c, t: c["speech"]["model"].__setitem__("bogus", 1),
        "unknown key 'model.bogus'",
    ),
    "wrong type": (lambda c, t: c["speech"]["model"].__setitem__(INT_KEY[t], "many"), "must be int"),
    "NaN setting": (lambda c, t: c["speech"]["model"].__setitem__(FLOAT_KEY[t], math.nan), "finite"),
    "missing setting": (lambda c, t: _drop_size(c["speech"]["model"], t), "weights do not match"),
    "weight of another shape": (
        lambda c, t: c["state_dict"].__setitem__(_first_weight(c), torch.zeros(3, 3)),
        "of another shape",
    ),
    "missing weight": (lambda c, t: c["state_dict"].pop(_first_weight(c)), "missing"),
    "unexpected weight": (
        lambda c, t: c["state_dict"].__setitem__("model.extra.weight", torch.zeros(2)),
        "unexpected: extra.weight",
    ),
}


def _edited(src: Path, dst: Path, edit: Callable[[dict], None]) -> Path:
    ckpt = torch.load(src, weights_only=True)
    edit(ckpt)
    torch.save(ckpt, dst)
    return dst


def _one_line_error(load: Callable[[Path], object], path: Path, fragment: str) -> str:
    with pytest.raises(SpeechError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    assert fragment in message, message
    return message


@pytest.mark.parametrize("task", sorted(LOADERS))
def test_intact_checkpoints_load(checkpoints, task):
    assert LOADERS[task](checkpoints[task]) is not None


@pytest.mark.parametrize("case", sorted(EDITS))
@pytest.mark.parametrize("task", sorted(LOADERS))
def test_bad_metadata_or_weights_are_one_line_errors(checkpoints, tmp_path, task, case):
    edit, fragment = EDITS[case]
    path = _edited(checkpoints[task], tmp_path / "bad.ckpt", lambda c: edit(c, task))
    _one_line_error(LOADERS[task], path, fragment)


@pytest.mark.parametrize(
    ("task", "edit", "fragment"),
    [
        (
            "asr",
            lambda m: m["model"]["listener"].__setitem__("bogus", 1),
            "unknown key 'model.listener.bogus'",
        ),
        (
            "asr",
            lambda m: m["search"].__setitem__("max_length_ratio", math.inf),
            "metadata: 'search.max_length_ratio'",
        ),
        ("asr", lambda m: m["search"].__setitem__("beam_size", 0), "metadata: 'search.beam_size'"),
        ("asr", lambda m: m["features"].__setitem__("n_fft", -1), "metadata: 'features.n_fft'"),
        ("asr", lambda m: m["cmvn"].__setitem__("std", [1.0]), "metadata 'cmvn'"),
        ("asr", lambda m: m["cmvn"].__setitem__("mean", [math.nan] * 8), "metadata 'cmvn'"),
        ("asr", lambda m: m.pop("cmvn"), "no 'cmvn' entry"),
        ("asr", lambda m: m["tokenizer"].__setitem__("symbols", ["a", "b"]), "does not match"),
        ("asr", lambda m: m.__setitem__("tokenizer", {"type": "nonsense"}), "metadata 'tokenizer'"),
        ("st", lambda m: m.pop("target_tokenizer"), "no 'tokenizer' entry"),
        ("st", lambda m: m.__setitem__("target_lang", 3), "target_lang"),
        ("st", lambda m: m["model"].__setitem__("ctc_weight", 1.0), "metadata: 'model.ctc_weight'"),
        ("tts", lambda m: m.__setitem__("speakers", "alice"), "metadata: 'speakers' must be a list"),
        ("tts", lambda m: m.__setitem__("speakers", ["alice"]), "does not match"),
        ("tts", lambda m: m["inference"].__setitem__("stop_threshold", math.nan), "stop_threshold"),
        ("tts", lambda m: m["inference"].__setitem__("seed", -1), "seed"),
        ("tts", lambda m: m["text"].__setitem__("lang", "xx"), "metadata: 'text.lang'"),
        ("tts", lambda m: m["model"].__setitem__("n_mels", 80), "does not match"),
        ("lm", lambda m: m["model"].__setitem__("hidden_size", -4), "metadata: 'model.hidden_size'"),
    ],
)
def test_bad_entries_name_the_file_and_the_entry(checkpoints, tmp_path, task, edit, fragment):
    path = _edited(checkpoints[task], tmp_path / "bad.ckpt", lambda c: edit(c["speech"]))
    _one_line_error(LOADERS[task], path, fragment)


def test_state_dict_that_is_not_a_mapping(checkpoints, tmp_path):
    path = _edited(checkpoints["asr"], tmp_path / "bad.ckpt", lambda c: c.__setitem__("state_dict", [1]))
    _one_line_error(LOADERS["asr"], path, "state_dict")
