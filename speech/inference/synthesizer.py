"""Speech synthesis from a checkpoint: ``Synthesizer.from_checkpoint(path).synthesize(text)``."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import torch

from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMelConfig, MelInverter, Vocoder
from speech.inference.common import check_device, cmvn_from_meta, model_state
from speech.models.tacotron2 import InferenceConfig, Tacotron2, Tacotron2Config
from speech.tasks.checkpoint import load_checkpoint
from speech.text import Tokenizer, split_sentences, tokenizer_from_dict
from speech.text.frontend import TextFrontEndConfig, text_front_end


class SynthesisWarning(UserWarning):
    """An item reached its frame limit without predicting a stop."""


class Utterance(NamedTuple):
    """One synthesized sentence.

    Attributes:
        waveform: Shape (T,).
        mel: Its natural-log mel frames, shape (frames, F).
        stopped: Whether it stopped by itself (False: cut at the frame limit).
        attention: Shape (steps, symbols).
    """

    waveform: torch.Tensor
    mel: torch.Tensor
    stopped: bool
    attention: torch.Tensor


class Synthesizer:
    """A trained Tacotron2 with its text front end, tokenizer, mel statistics and vocoder.

    Args:
        model: The Tacotron2 model.
        tokenizer: Symbol tokenizer.
        text_config: The text front end the model was trained with.
        cmvn: Mel statistics (the model predicts normalised frames).
        vocoder: Turns natural-log mel frames into waveforms (Griffin-Lim by default).
        inference: Stop threshold, attention window, frame limits, seed.
        speakers: Speaker names of a multi-speaker model.
        device: Where to run.
    """

    def __init__(
        self,
        model: Tacotron2,
        tokenizer: Tokenizer,
        text_config: TextFrontEndConfig,
        cmvn: GlobalCMVN,
        vocoder: Vocoder,
        inference: InferenceConfig,
        speakers: Sequence[str] = (),
        device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.text_config = text_config
        self.front_end = text_front_end(text_config)
        self.cmvn = cmvn.to(self.device)
        self.vocoder = vocoder.to(self.device) if isinstance(vocoder, torch.nn.Module) else vocoder
        self.inference = inference
        self.speakers = list(speakers)

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, device: str | torch.device = "cpu", griffin_lim_iters: int = 32
    ) -> Synthesizer:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else."""
        ckpt = load_checkpoint(path, task="tts")
        meta = ckpt["speech"]
        model = Tacotron2(Tacotron2Config(**meta["model"]))
        model.load_state_dict(model_state(ckpt["state_dict"], "model"))
        features = LogMelConfig.from_dict(meta["features"])
        cmvn = cmvn_from_meta(meta)
        return cls(
            model,
            tokenizer_from_dict(meta["tokenizer"]),
            TextFrontEndConfig(**meta["text"]),
            cmvn,
            MelInverter(features, n_iter=griffin_lim_iters),
            InferenceConfig(**meta["inference"]),
            meta.get("speakers", []),
            check_device(device),
        )

    @property
    def sample_rate(self) -> int:
        """Sample rate of the output in Hz."""
        return self.vocoder.sample_rate

    def encode(self, text: str) -> list[int]:
        """Symbol ids of one sentence after the text front end.

        Raises:
            SpeechError: Empty text, or text with no symbol the model knows.
        """
        symbols = self.front_end(text)
        if not symbols.strip():
            raise SpeechError(f"nothing to say in {text!r}" if text.strip() else "empty text")
        ids = self.tokenizer.encode(symbols)
        unk = self.tokenizer.unk_id
        if all(i == unk or not self.tokenizer.decode([i]).strip() for i in ids):  # only unknowns and spaces
            raise SpeechError(f"no character of {text[:40]!r} is known to the model")
        return ids

    def _speaker_ids(self, speaker: str | None, n: int) -> torch.Tensor | None:
        if not self.speakers:
            if speaker is not None:
                raise SpeechError("this is a single-speaker model: --speaker does not apply")
            return None
        if speaker is None:
            raise SpeechError(
                f"this model has {len(self.speakers)} speakers: choose one ({self.speakers[0]} ...)"
            )
        if speaker not in self.speakers:
            raise SpeechError(
                f"unknown speaker {speaker!r} (the model knows {', '.join(self.speakers[:10])} ...)"
            )
        return torch.full((n,), self.speakers.index(speaker), dtype=torch.long, device=self.device)

    @torch.no_grad()
    def synthesize_sentences(self, sentences: Sequence[str], speaker: str | None = None) -> list[Utterance]:
        """Synthesize sentences in one batch; each stops on its own and warns if it never does."""
        from speech.data.dataset import pad_sequences

        encoded = [torch.tensor(self.encode(s), dtype=torch.long) for s in sentences]
        tokens, lengths = pad_sequences(encoded, self.tokenizer.pad_id)
        tokens, lengths = tokens.to(self.device), lengths.to(self.device)
        out = self.model.synthesize(
            tokens, lengths, self._speaker_ids(speaker, len(sentences)), self.inference
        )
        log_mel = out.mel * self.cmvn.std + self.cmvn.mean  # undo CMVN: (B, T, F)
        waves = self.vocoder(log_mel, out.mel_lengths)
        results = []
        for i, sentence in enumerate(sentences):
            stopped = bool(out.stopped[i])
            if not stopped:
                warnings.warn(
                    f"no stop predicted for {sentence[:40]!r}: cut at {int(out.mel_lengths[i])} frames",
                    SynthesisWarning,
                    stacklevel=2,
                )
            n, steps = int(out.mel_lengths[i]), int(out.steps[i])
            results.append(
                Utterance(
                    waves.waveforms[i, : int(waves.lengths[i])].cpu(),
                    log_mel[i, :n].cpu(),
                    stopped,
                    out.attention[i, :steps, : int(lengths[i])].cpu(),
                )
            )
        return results

    def synthesize(
        self, text: str, speaker: str | None = None, pause: float = 0.2
    ) -> tuple[torch.Tensor, int]:
        """Speak a text of any length: split into sentences, synthesized as one batch, joined with pauses.

        Args:
            text: Raw text (numbers, abbreviations and symbols are normalised).
            speaker: Speaker name of a multi-speaker model.
            pause: Seconds of silence between sentences.

        Returns:
            ``(waveform (T,), sample_rate)``.

        Raises:
            SpeechError: Empty text, only unknown characters, or a bad speaker.
        """
        if not text.strip():
            raise SpeechError("empty text")
        sentences = split_sentences(text, self.text_config.lang) or [text]
        parts = self.synthesize_sentences(sentences, speaker)
        gap = torch.zeros(int(round(pause * self.sample_rate)))
        pieces = []
        for i, part in enumerate(parts):
            pieces.extend([gap, part.waveform] if i else [part.waveform])
        return torch.cat(pieces), self.sample_rate

    def with_inference(self, **changes) -> Synthesizer:
        """A copy with some :class:`InferenceConfig` fields changed (e.g. ``stop_threshold=0.6``)."""
        copy = dataclasses.replace(self.inference, **changes)
        clone = object.__new__(Synthesizer)
        clone.__dict__.update(self.__dict__, inference=copy)
        return clone
