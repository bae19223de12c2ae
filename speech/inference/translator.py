"""Speech translation from a checkpoint: ``Translator.from_checkpoint(path).translate(files)``."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import NamedTuple

import torch

from speech.audio import load
from speech.data.dataset import pad_sequences
from speech.decoding import SearchConfig
from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMel, LogMelConfig
from speech.inference.transcriber import AudioInput, _check_device, model_state
from speech.models.translator import SpeechTranslator, TranslatorConfig
from speech.tasks.checkpoint import load_checkpoint
from speech.text import Tokenizer, tokenizer_from_dict


class Translation(NamedTuple):
    """One translation: target-language text, token ids and the hypothesis' normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class Translator:
    """A trained speech translator with its front end and target tokenizer.

    Args:
        model: The translation model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Target-language tokenizer.
        search: Default search settings.
        device: Where to run.
        target_lang: Target language code, when known.
    """

    def __init__(
        self,
        model: SpeechTranslator,
        features: LogMel,
        cmvn: GlobalCMVN,
        tokenizer: Tokenizer,
        search: SearchConfig,
        device: str | torch.device = "cpu",
        target_lang: str | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.features = features.to(self.device)
        self.cmvn = cmvn.to(self.device)
        self.tokenizer = tokenizer
        self.search = search
        self.target_lang = target_lang

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Translator:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else.

        Raises:
            SpeechError: Missing or unreadable file, or a checkpoint of another task.
        """
        ckpt = load_checkpoint(path)
        meta = ckpt["speech"]
        if meta.get("task") != "st":
            raise SpeechError(f"{path}: a {meta.get('task')} checkpoint, not a speech translation model")
        model = SpeechTranslator(TranslatorConfig(**meta["model"]))
        model.load_state_dict(model_state(ckpt["state_dict"], "model"))
        features = LogMel(LogMelConfig.from_dict(meta["features"]))
        cmvn = GlobalCMVN(features.n_mels)
        cmvn.mean.copy_(torch.tensor(meta["cmvn"]["mean"]))
        cmvn.std.copy_(torch.tensor(meta["cmvn"]["std"]))
        return cls(
            model,
            features,
            cmvn,
            tokenizer_from_dict(meta["target_tokenizer"], where=f"{path}: target_tokenizer"),
            SearchConfig(**meta["search"]),
            _check_device(device),
            meta.get("target_lang"),
        )

    @property
    def sample_rate(self) -> int:
        """Sample rate the model expects; file inputs are resampled to it."""
        return self.features.config.sample_rate

    @torch.no_grad()
    def translate(
        self, audio: Sequence[AudioInput], beam_size: int | None = None, batch_size: int = 16
    ) -> list[Translation]:
        """Translate files or waveforms (1-D tensors at :attr:`sample_rate`).

        Inputs are sorted by length and decoded in batches; results come back in input order.

        Args:
            audio: Paths or waveforms.
            beam_size: Beam size (1 = greedy); None keeps the checkpoint's.
            batch_size: Utterances decoded together.

        Raises:
            AudioError: A file cannot be read (see :func:`speech.audio.load`).
        """
        waveforms = [a if isinstance(a, torch.Tensor) else load(a, self.sample_rate) for a in audio]
        search = (
            self.search
            if beam_size is None
            else dataclasses.replace(self.search, beam_size=beam_size, nbest=1)
        )
        order = sorted(range(len(waveforms)), key=lambda i: -waveforms[i].numel())
        results: list[Translation | None] = [None] * len(waveforms)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch, lengths = pad_sequences([waveforms[i].float() for i in chunk])
            feats, frame_lengths = self.features(batch.to(self.device), lengths.to(self.device))
            feats = self.cmvn(feats, frame_lengths)
            for i, nbest in zip(chunk, self.model.decode(feats, frame_lengths, search), strict=True):
                best = nbest[0]
                results[i] = Translation(
                    self.tokenizer.decode(best.tokens), best.tokens, best.normalized_score
                )
        return results
