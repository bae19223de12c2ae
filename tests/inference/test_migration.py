"""Checkpoints of format 1 (ASR and ST written by their own tasks) load, migrated, and decode as they did.

The fixtures in tests/fixtures/checkpoints were written by commit bfcc420, the last code that
wrote format 1 (see make_v1.py there), with what that code decoded from two fixed waveforms.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from speech.checkpoint import FORMAT_VERSION, load_checkpoint
from speech.errors import SpeechError
from speech.inference import Transcriber, Translator
from speech.metadata import S2TMeta, migrate, read_metadata, to_dict
from speech.tasks.s2t import S2TTask, STConfig, init_encoder
from speech.tasks.train import load_config
from speech.text import tokenizer_from_dict
from tests.fixtures.checkpoints.make_v1 import SMALL, waves

FIXTURES = Path(__file__).parents[1] / "fixtures" / "checkpoints"
EXPECTED = json.loads((FIXTURES / "expected_v1.json").read_text())
RUNNERS = {"asr": (Transcriber, "transcribe"), "st": (Translator, "translate")}


@pytest.mark.parametrize("task", ["asr", "st"])
def test_format_1_metadata_is_migrated_to_the_family_layout(task):
    raw = load_checkpoint(FIXTURES / f"{task}_v1.ckpt")["speech"]
    assert raw["format_version"] == 1 < FORMAT_VERSION
    meta = read_metadata(raw, "x.ckpt")
    assert isinstance(meta, S2TMeta) and meta.task == task and meta.format_version == FORMAT_VERSION
    assert meta.model.ctc_tokens == ("target" if task == "asr" else "source")
    assert meta.model.has_ctc  # both fixtures were trained with a CTC head
    if task == "st":
        assert meta.tokenizer == raw["target_tokenizer"] and meta.source_tokenizer == raw["source_tokenizer"]
        assert meta.model.source_vocab_size == tokenizer_from_dict(raw["source_tokenizer"]).vocab_size
        assert meta.target_lang == "fr" and "target_tokenizer" in raw  # the input is left as it was
    else:
        assert meta.tokenizer == raw["tokenizer"] and meta.source_tokenizer is None
    assert migrate(to_dict(meta)) == to_dict(meta)  # the current layout passes unchanged


@pytest.mark.parametrize("task", ["asr", "st"])
def test_format_1_checkpoints_decode_what_they_decoded_before(task):
    cls, method = RUNNERS[task]
    runner = cls.from_checkpoint(FIXTURES / f"{task}_v1.ckpt")
    for beam in (1, 2):
        results = getattr(runner, method)(waves(), beam_size=beam)
        expected = EXPECTED[task][f"beam{beam}"]
        assert [r.tokens for r in results] == [e["tokens"] for e in expected]
        assert [r.score for r in results] == pytest.approx([e["score"] for e in expected], abs=1e-5)


def test_a_format_1_recognizer_still_initialises_a_translator():
    """--init-encoder-from with an old ASR checkpoint copies its listener and CTC head."""
    asr = load_checkpoint(FIXTURES / "asr_v1.ckpt")["speech"]
    st = load_checkpoint(FIXTURES / "st_v1.ckpt")["speech"]
    config = load_config(STConfig, None, [o for o in SMALL if not o.startswith("trainer.")])
    task = S2TTask(config, tokenizer_from_dict(st["target_tokenizer"]), tokenizer_from_dict(asr["tokenizer"]))
    init = init_encoder(task, str(FIXTURES / "asr_v1.ckpt"))
    assert init.ctc_head and init.listener_tensors == len(task.model.listener.state_dict())
    weights = load_checkpoint(FIXTURES / "asr_v1.ckpt")["state_dict"]
    for name, value in task.model.listener.state_dict().items():
        assert torch.equal(value, weights[f"model.listener.{name}"])


def test_a_translator_cannot_initialise_an_encoder():
    config = load_config(STConfig, None, [o for o in SMALL if not o.startswith("trainer.")])
    st = load_checkpoint(FIXTURES / "st_v1.ckpt")["speech"]
    tokenizer = tokenizer_from_dict(st["target_tokenizer"])
    with pytest.raises(SpeechError, match=r"st_v1\.ckpt: a st checkpoint, not an ASR model"):
        init_encoder(S2TTask(config, tokenizer), str(FIXTURES / "st_v1.ckpt"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.__setitem__("format_version", FORMAT_VERSION + 1), "written by a newer version"),
        (lambda m: m.__setitem__("task", "vocoder"), "a vocoder checkpoint, not an ASR model"),
        (lambda m: m.__setitem__("extra", 1), "metadata: unknown key 'extra'"),
        (lambda m: m["model"].__setitem__("ctc_tokens", "both"), "'model.ctc_tokens' must be one of"),
    ],
)
def test_a_foreign_or_bad_checkpoint_is_one_line(tmp_path, edit, message):
    ckpt = load_checkpoint(FIXTURES / "asr_v1.ckpt")
    ckpt["speech"] = migrate(ckpt["speech"])
    edit(ckpt["speech"])
    path = tmp_path / "bad.ckpt"
    torch.save(ckpt, path)
    with pytest.raises(SpeechError, match=message) as error:
        Transcriber.from_checkpoint(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_typed_metadata_round_trips():
    meta = read_metadata(load_checkpoint(FIXTURES / "st_v1.ckpt")["speech"], "x")
    again = read_metadata(to_dict(meta), "x")
    assert again == meta and dataclasses.is_dataclass(again.model)
