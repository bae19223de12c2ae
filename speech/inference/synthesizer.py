"""Speech synthesis from a checkpoint: ``Synthesizer.from_checkpoint(path).synthesize(text)``."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch

from speech.errors import SpeechError
from speech.features import GlobalCMVN, LogMelConfig, MelInverter, Vocoder
from speech.inference.common import check_device, check_number
from speech.inference.metadata import CheckpointMeta
from speech.kernels import use_inference_kernels
from speech.models.tacotron2 import InferenceConfig, Tacotron2
from speech.text import Tokenizer, WordCoverage, split_sentences, word_coverage
from speech.text.frontend import TextFrontEndConfig, text_front_end

# More iterations stop improving the phase long before this; a larger count only hangs the command.
MAX_GRIFFIN_LIM_ITERS = 1000
UNSEEN_WORDS_LIMIT = 0.5
"""A text warns when more than this share of its words never occur in the training text."""
_SHOWN_WORDS = 5  # unseen words named in the warning


class SynthesisWarning(UserWarning):
    """A synthesis likely to sound wrong: an item cut at its frame limit, or a text of unseen words."""


class UnseenWordsWarning(SynthesisWarning):
    """More than half of a text's words never occur in the model's training text."""


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


class TextSynthesis(NamedTuple):
    """A synthesized text (:meth:`Synthesizer.synthesize_text`).

    Attributes:
        waveform: All its sentences joined with pauses, shape (T,).
        sentences: The sentences the text was split into.
        utterances: One per sentence, in order.
    """

    waveform: torch.Tensor
    sentences: list[str]
    utterances: list[Utterance]


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
        vocabulary: The words of the training text (normalised, as
            :func:`speech.text.word_vocabulary` lists them); None (a checkpoint from before
            they were stored) skips the check of :meth:`word_coverage`.
        features: The mel front end the model predicts (None when unknown).
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
        vocabulary: Iterable[str] | None = None,
        features: LogMelConfig | None = None,
    ) -> None:
        self.device = check_device(device)
        self.model = use_inference_kernels(model.to(self.device).eval(), self.device)
        self.tokenizer = tokenizer
        self.text_config = text_config
        self.front_end = text_front_end(text_config)
        self.cmvn = cmvn.to(self.device)
        self.vocoder = vocoder.to(self.device) if isinstance(vocoder, torch.nn.Module) else vocoder
        self.inference = inference
        self.speakers = list(speakers)
        self.vocabulary = frozenset(vocabulary) if vocabulary is not None else None
        self.features = features

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike,
        device: str | torch.device = "cpu",
        griffin_lim_iters: int = 32,
        vocoder: str | os.PathLike | None = None,
    ) -> Synthesizer:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else.

        Args:
            path: The checkpoint.
            device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
            griffin_lim_iters: Griffin-Lim iterations of the vocoder (0 to ``MAX_GRIFFIN_LIM_ITERS``).
            vocoder: A neural vocoder checkpoint (``speech train vocoder``) made for the same mel
                features; None uses Griffin-Lim.

        Raises:
            SpeechError: One line naming the file: missing, unreadable, another task, a bad or
                missing setting (NaN included), weights that do not fit the model, or a bad
                device or iteration count.
        """
        device = check_device(device)
        if (
            isinstance(griffin_lim_iters, bool)
            or not isinstance(griffin_lim_iters, int)
            or not 0 <= griffin_lim_iters <= MAX_GRIFFIN_LIM_ITERS
        ):
            raise SpeechError(
                f"griffin_lim_iters must be an integer in [0, {MAX_GRIFFIN_LIM_ITERS}], "
                f"got {griffin_lim_iters!r}"
            )
        meta = CheckpointMeta(path, "tts")
        info = meta.info
        config, features = info.model, info.features
        tokenizer = meta.tokenizer()
        speakers = info.speakers
        meta.check_match(
            "model.n_symbols", config.n_symbols, "the tokenizer's vocabulary", tokenizer.vocab_size
        )
        meta.check_match("model.n_mels", config.n_mels, "features.n_mels", features.n_mels)
        meta.check_match("model.n_speakers", config.n_speakers, "the number of speakers", len(speakers))
        vocabulary = info.word_vocabulary
        model = meta.load_weights(meta.build(Tacotron2, config))
        inference = check_inference(info.inference, f"{path}: metadata 'inference'")
        text = info.text
        cmvn = meta.cmvn(features.n_mels)
        if vocoder is None:
            vocoder = MelInverter(features, n_iter=griffin_lim_iters)
        else:
            from speech.inference.vocoder import NeuralVocoder

            vocoder = NeuralVocoder.from_checkpoint(vocoder, device, features=features)
        try:
            return cls(
                model, tokenizer, text, cmvn, vocoder, inference, speakers, device, vocabulary, features
            )
        except SpeechError as e:  # the text front end refuses its settings
            raise SpeechError(f"{path}: metadata 'text': {e}") from None

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

    def word_coverage(self, text: str) -> WordCoverage | None:
        """How many of the words of ``text`` (normalised) occur in the training text; None if unknown."""
        if self.vocabulary is None:
            return None
        return word_coverage(self.front_end.normalize(text), self.vocabulary)

    def check_words(self, text: str, stacklevel: int = 2) -> WordCoverage | None:
        """Warn (:class:`UnseenWordsWarning`) when most words of ``text`` never occur in the training text.

        More than :data:`UNSEEN_WORDS_LIMIT` of its running words must be unseen; the warning
        names the text, the share and the first unseen words. No check without a vocabulary.

        Returns:
            The text's :meth:`word_coverage`.
        """
        coverage = self.word_coverage(text)
        if coverage is not None and coverage.unseen_fraction > UNSEEN_WORDS_LIMIT:
            shown = ", ".join(coverage.unseen_words[:_SHOWN_WORDS])
            more = " ..." if len(coverage.unseen_words) > _SHOWN_WORDS else ""
            warnings.warn(
                f"{text[:40]!r}: {coverage.unseen} of {coverage.words} words "
                f"({coverage.unseen_fraction:.0%}) never occur in the model's training text "
                f"({shown}{more}); expect unintelligible speech",
                UnseenWordsWarning,
                stacklevel=stacklevel + 1,
            )
        return coverage

    @torch.no_grad()
    def synthesize_sentences(self, sentences: Sequence[str], speaker: str | None = None) -> list[Utterance]:
        """Synthesize sentences in one batch; each stops on its own and warns if it never does.

        Each sentence is also checked against the training words (:meth:`check_words`).
        """
        from speech.data.dataset import pad_sequences

        for sentence in sentences:
            self.check_words(sentence, stacklevel=3)

        encoded = [torch.tensor(self.encode(s), dtype=torch.long) for s in sentences]
        tokens, lengths = pad_sequences(encoded, self.tokenizer.pad_id)
        tokens, lengths = tokens.to(self.device), lengths.to(self.device)
        out = self.model.synthesize(
            tokens, lengths, self._speaker_ids(speaker, len(sentences)), self.inference
        )
        log_mel = out.mel * self.cmvn.std + self.cmvn.mean  # undo CMVN: (B, T, F)
        # The vocoder's initial phases from the inference seed too: the same text gives the same wav.
        waves = self.vocoder(
            log_mel, out.mel_lengths, generator=torch.Generator().manual_seed(self.inference.seed)
        )
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

    def sentences(self, text: str) -> list[str]:
        """The sentences :meth:`synthesize` splits ``text`` into (the whole text if it finds none).

        Raises:
            SpeechError: Empty text.
        """
        if not isinstance(text, str) or not text.strip():
            raise SpeechError("empty text")
        return split_sentences(text, self.text_config.lang) or [text]

    def synthesize(
        self, text: str, speaker: str | None = None, pause: float = 0.2
    ) -> tuple[torch.Tensor, int]:
        """Speak a text of any length: split into sentences, synthesized as one batch, joined with pauses.

        :meth:`synthesize_text` does the same and also returns each sentence's :class:`Utterance`
        (its attention alignment, whether it stopped by itself).

        Args:
            text: Raw text (numbers, abbreviations and symbols are normalised).
            speaker: Speaker name of a multi-speaker model.
            pause: Seconds of silence between sentences.

        Returns:
            ``(waveform (T,), sample_rate)``.

        Raises:
            SpeechError: Empty text, only unknown characters, or a bad speaker.

        Warns:
            UnseenWordsWarning: Most words of the text never occur in the training text (once
                for the whole text, not per sentence).
            SynthesisWarning: A sentence was cut at its frame limit.
        """
        return self._synthesize_text(text, speaker, pause, stacklevel=3).waveform, self.sample_rate

    def synthesize_text(self, text: str, speaker: str | None = None, pause: float = 0.2) -> TextSynthesis:
        """:meth:`synthesize`, with the sentences and their :class:`Utterance` s (e.g. to plot alignments).

        Args, errors and warnings are those of :meth:`synthesize`.

        Returns:
            The joined waveform (at :attr:`sample_rate`), the :meth:`sentences` of ``text`` and
            one :class:`Utterance` per sentence.
        """
        return self._synthesize_text(text, speaker, pause, stacklevel=3)

    def _synthesize_text(
        self, text: str, speaker: str | None, pause: float, stacklevel: int
    ) -> TextSynthesis:
        """``stacklevel`` of the caller of the public method, as :meth:`check_words` counts it."""
        sentences = self.sentences(text)
        check_number("pause", pause, 0.0)
        self.check_words(text, stacklevel=stacklevel)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UnseenWordsWarning)  # checked once, above
            parts = self.synthesize_sentences(sentences, speaker)
        gap = torch.zeros(int(round(pause * self.sample_rate)))
        pieces = []
        for i, part in enumerate(parts):
            pieces.extend([gap, part.waveform] if i else [part.waveform])
        return TextSynthesis(torch.cat(pieces), sentences, parts)

    def with_inference(self, **changes) -> Synthesizer:
        """A copy with some :class:`InferenceConfig` fields changed (e.g. ``stop_threshold=0.6``).

        Raises:
            SpeechError: An unknown field, or a value out of range (NaN included).
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(InferenceConfig)})
        if unknown:
            raise SpeechError(f"unknown synthesis setting {unknown[0]!r}")
        copy = check_inference(dataclasses.replace(self.inference, **changes), "synthesis settings")
        clone = object.__new__(Synthesizer)
        clone.__dict__.update(self.__dict__, inference=copy)
        return clone


_MAX_SEED = 2**63 - 1


def check_inference(config: InferenceConfig, where: str) -> InferenceConfig:
    """``config`` if every synthesis setting is in range.

    The stop threshold must be in [0, 1], the frame limit positive and finite, the window sizes
    and the seed non-negative integers (``window_backward`` < 0 turns the window off).

    Raises:
        SpeechError: ``where: 'key' must be ...``.
    """
    check_number(f"{where}: 'stop_threshold'", config.stop_threshold, 0.0, 1.0)
    check_number(f"{where}: 'max_frames_per_symbol'", config.max_frames_per_symbol, 0.0)
    if config.max_frames_per_symbol == 0:
        raise SpeechError(f"{where}: 'max_frames_per_symbol' must be positive")
    for name, low in (
        ("window_backward", -(2**31)),
        ("window_forward", 0),
        ("stop_near_end", 0),
        ("min_max_frames", 1),
        ("seed", 0),
    ):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MAX_SEED:
            bound = f" of at least {low}" if low >= 0 else ""
            raise SpeechError(f"{where}: '{name}' must be an integer{bound}, got {value!r}")
    return config
