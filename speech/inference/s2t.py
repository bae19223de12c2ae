"""Speech-to-text inference from a checkpoint: one runner for recognition and for translation.

``S2TRunner.from_checkpoint(path).decode(files)`` reads every input, checks it, sorts the inputs
by length and decodes them in batches with the model's beam search (speller, CTC when it
predicts the output tokens, and an optional language model). :class:`Transcriber` (ASR) and
:class:`Translator` (ST) are its presets: they only name the checkpoint task they accept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import torch

from speech.audio import load
from speech.data.dataset import pad_sequences
from speech.decoding import Hypothesis, SearchConfig
from speech.errors import AudioError, SpeechError
from speech.features import GlobalCMVN, LogMel
from speech.inference.common import (
    AudioInput,
    Progress,
    SpeechFrontEnd,
    check_device,
    check_number,
    check_positive_int,
    check_waveform,
    front_end_from_meta,
    min_samples,
    with_beam,
)
from speech.inference.metadata import CheckpointMeta
from speech.kernels import use_inference_kernels
from speech.models.lm import RNNLM
from speech.models.s2t import SpeechToText
from speech.text import Tokenizer, tokenizer_to_dict

if TYPE_CHECKING:
    from speech.inference.longform import LongFormConfig, Segment


class S2TResult(NamedTuple):
    """One decoded input.

    Attributes:
        text: The output text.
        tokens: Its token ids.
        score: The hypothesis' length-normalised weighted log-score (the ranking key).
        scores: Each scorer's own log-score sum (``decoder``, and ``ctc`` or ``lm`` when they
            took part), unweighted and not normalised: what each contributed.
    """

    text: str
    tokens: list[int]
    score: float
    scores: dict[str, float]


class S2TRunner:
    """A trained speech-to-text model with its front end and output tokenizer.

    Args:
        model: The model.
        features: Log-mel front end.
        cmvn: Global CMVN.
        tokenizer: Output tokenizer.
        search: Default search settings.
        device: Where to run: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        target_lang: Language code of the output, when known.
    """

    task: ClassVar[str | None] = None
    """The checkpoint task :meth:`from_checkpoint` accepts (None: either)."""

    def __init__(
        self,
        model: SpeechToText,
        features: LogMel,
        cmvn: GlobalCMVN,
        tokenizer: Tokenizer,
        search: SearchConfig,
        device: str | torch.device = "cpu",
        target_lang: str | None = None,
    ) -> None:
        self.device = check_device(device)
        self.model = use_inference_kernels(model.to(self.device).eval(), self.device)
        self.front_end = use_inference_kernels(SpeechFrontEnd(features, cmvn).to(self.device), self.device)
        self.features, self.cmvn = self.front_end.features, self.front_end.cmvn
        self.tokenizer = tokenizer
        self.search = search
        self.target_lang = target_lang

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> S2TRunner:
        """Load a training checkpoint or an exported ``model.ckpt``; needs nothing else.

        Raises:
            SpeechError: One line naming the file: missing, unreadable, another task, a bad or
                missing setting, weights that do not fit the model, or a bad device.
        """
        device = check_device(device)
        meta = CheckpointMeta(path, cls.task)
        info = meta.info
        front_end = front_end_from_meta(meta)
        tokenizer = meta.tokenizer()
        meta.check_match("model.vocab_size", info.model.vocab_size, "the tokenizer's", tokenizer.vocab_size)
        n_mels = front_end.features.config.n_mels
        meta.check_match("model.listener.input_dim", info.model.listener.input_dim, "features.n_mels", n_mels)
        model = meta.load_weights(meta.build(SpeechToText, info.model))
        return cls(
            model, front_end.features, front_end.cmvn, tokenizer, info.search, device, info.target_lang
        )

    @property
    def sample_rate(self) -> int:
        """Sample rate the model expects; file inputs are resampled to it."""
        return self.front_end.sample_rate

    @property
    def min_samples(self) -> int:
        """Fewest samples (at :attr:`sample_rate`) an input needs; shorter ones are refused."""
        return min_samples(self.front_end.features.config, self.model.listener.config)

    def check_audio(self, waveform: torch.Tensor, name: str) -> torch.Tensor:
        """``waveform`` as float if the model can decode it (see :func:`check_waveform`).

        Raises:
            AudioError: ``name: too short for this model (...)`` and other unusable inputs.
        """
        return check_waveform(waveform, name, self.min_samples, self.sample_rate)

    @torch.no_grad()
    def decode(
        self,
        audio: Sequence[AudioInput],
        beam_size: int | None = None,
        ctc_weight: float | None = None,
        lm: RNNLM | None = None,
        lm_weight: float = 0.0,
        batch_size: int = 16,
        progress: Progress | None = None,
    ) -> list[S2TResult]:
        """Decode files or waveforms (1-D tensors at :attr:`sample_rate`).

        Every input is read and checked before any is decoded; they are then sorted by length
        and decoded in batches, and results come back in input order.

        Args:
            audio: Paths or waveforms.
            beam_size: Beam size (1 = greedy); None keeps the checkpoint's.
            ctc_weight: Weight of the CTC prefix score in [0, 1); None keeps the training weight.
                Only a CTC head over the output tokens (a recognizer's) scores hypotheses.
            lm: Optional language model over the output tokens (see :func:`load_lm`) for shallow fusion.
            lm_weight: Its weight (finite, at least 0).
            batch_size: Utterances decoded together.
            progress: Called with the number of inputs finished after each batch.

        Raises:
            AudioError: An input cannot be read, or is too short for this model
                (``x.wav: too short for this model (10 ms; needs at least 30 ms)``); see
                :attr:`min_samples`.
            SpeechError: A setting out of range (NaN included).
        """
        search = with_beam(self.search, beam_size)
        if ctc_weight is not None:
            check_number("ctc_weight", ctc_weight, 0.0, 1.0, below_high=True)
        check_number("lm_weight", lm_weight, 0.0)
        check_positive_int("batch_size", batch_size)

        def decode(feats: torch.Tensor, frame_lengths: torch.Tensor) -> list[list[Hypothesis]]:
            return self.model.decode(
                feats, frame_lengths, search, ctc_weight=ctc_weight, lm=lm, lm_weight=lm_weight
            )

        waves = self._load(audio)
        best = decode_by_length(waves, self.front_end, decode, batch_size, self.device, progress)
        return [
            S2TResult(self.tokenizer.decode(h.tokens), h.tokens, h.normalized_score, h.scores) for h in best
        ]

    def decode_long(
        self,
        audio: AudioInput,
        config: LongFormConfig | None = None,
        word_timestamps: bool = False,
        **options,
    ) -> list[Segment]:
        """Decode a recording of any length: VAD segments decoded in batches, in time order.

        A thin wrapper of :func:`speech.inference.longform.iter_segments` (which streams them):
        ``config`` sets the segmentation, ``word_timestamps`` adds word times from a CTC head
        over the output tokens, and ``options`` are those of :meth:`decode`.

        Raises:
            AudioError: The file cannot be read.
            SpeechError: A bad setting, or word timestamps this model cannot give.
        """
        from speech.inference.longform import iter_segments

        return list(iter_segments(self, audio, config, word_timestamps, **options))

    def _load(self, audio: Sequence[AudioInput]) -> list[torch.Tensor]:
        """Read and check every input before any is decoded; tensors are named ``input N``."""
        if isinstance(audio, str | os.PathLike | torch.Tensor):
            raise SpeechError("audio must be a list of files or waveforms, not a single one")
        waves = []
        for i, item in enumerate(audio):
            if isinstance(item, torch.Tensor):
                waves.append(self.check_audio(item, f"input {i} (a waveform)"))
            else:
                waves.append(self.check_audio(load(item, self.sample_rate), str(item)))
        return waves


class Transcriber(S2TRunner):
    """Speech recognition: ``Transcriber.from_checkpoint(path).transcribe(files)`` (an ASR checkpoint)."""

    task = "asr"
    transcribe = S2TRunner.decode
    transcribe_long = S2TRunner.decode_long


class Translator(S2TRunner):
    """Speech translation: ``Translator.from_checkpoint(path).translate(files)`` (an ST checkpoint)."""

    task = "st"
    translate = S2TRunner.decode
    translate_long = S2TRunner.decode_long


Transcript = Translation = S2TResult


def decode_by_length(
    waveforms: Sequence[torch.Tensor],
    front_end: SpeechFrontEnd,
    decode: Callable[[torch.Tensor, torch.Tensor], list[list[Hypothesis]]],
    batch_size: int,
    device: torch.device,
    progress: Progress | None = None,
) -> list[Hypothesis]:
    """Best hypothesis per waveform, in input order; decoded longest first in batches."""
    order = sorted(range(len(waveforms)), key=lambda i: -waveforms[i].numel())
    best: list[Hypothesis | None] = [None] * len(waveforms)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch, lengths = pad_sequences([waveforms[i] for i in chunk])
        feats, frame_lengths = front_end(batch.to(device), lengths.to(device))
        for i, nbest in zip(chunk, decode(feats, frame_lengths), strict=True):
            best[i] = nbest[0]
        if progress is not None:
            progress(len(chunk))
    return best


def load_lm(path: str | os.PathLike, tokenizer: Tokenizer, device: str | torch.device = "cpu") -> RNNLM:
    """Load an LM checkpoint for shallow fusion; its tokenizer must be the decoder's output tokenizer.

    Raises:
        SpeechError: Not an LM checkpoint, trained with a different tokenizer, a bad or
            missing setting, or weights that do not fit the model.
    """
    device = check_device(device)
    meta = CheckpointMeta(path, "lm")
    if meta.info.tokenizer != tokenizer_to_dict(tokenizer):
        raise SpeechError(
            f"{path}: the language model was trained with a different tokenizer than the speech model"
        )
    config = meta.info.model
    meta.check_match("model.vocab_size", config.vocab_size, "the tokenizer's", tokenizer.vocab_size)
    lm = meta.load_weights(meta.build(RNNLM, config))
    return lm.to(device).eval()


__all__ = [
    "AudioError",
    "S2TResult",
    "S2TRunner",
    "Transcriber",
    "Transcript",
    "Translation",
    "Translator",
    "load_lm",
]
