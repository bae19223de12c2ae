"""Long-form speech-to-text: recordings of any length, cut by Silero VAD and decoded in batches.

``iter_segments(runner, path)`` reads the file in blocks (soundfile), runs Silero VAD (Silero
Team 2024, "Silero VAD: pre-trained enterprise-grade voice activity detector") over it as a
stream, closes a speech segment once ``min_silence_ms`` of silence follows it, cuts a segment
that grows past ``max_segment_seconds`` at its quietest frame, and decodes the closed segments
in length-sorted batches with the runner's own batched beam search (:meth:`S2TRunner.decode`).
Segments come back in time order, as soon as each pool of them is decoded. Memory is bounded by
the block, the longest segment and the decoding pool, never by the file's length.

The VAD is a hand-rolled stream over Silero's model (one 32 ms window at a time, its recurrent
state carried across blocks) rather than ``VADIterator``: the segmenter needs each window's
probability and energy to cut an over-long segment at its quietest point, and it emits exactly
what one pass over the whole file would, whatever the block size (a test checks it).

Word timestamps come from the CTC head when it predicts the output tokens: the decoded tokens
are force-aligned (``torchaudio.functional.forced_align``) to the segment's CTC log-posteriors
and a word spans its tokens' frames. Times are seconds of the original file.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import soundfile as sf
import torch

from speech.audio import resample
from speech.data.dataset import pad_sequences
from speech.errors import AudioError, SpeechError
from speech.inference.common import AudioInput, check_number

if TYPE_CHECKING:
    from speech.inference.s2t import S2TResult, S2TRunner

VAD_RATE = 16000
"""Sample rate the VAD runs at."""
VAD_WINDOW = 512
"""Samples per VAD window at :data:`VAD_RATE` (32 ms)."""


@dataclass(frozen=True)
class LongFormConfig:
    """How a long recording is cut into segments and decoded.

    Attributes:
        max_segment_seconds: Longest segment; longer speech is cut at its quietest window.
        threshold: VAD speech probability that opens a segment (it closes below ``threshold - 0.15``).
        min_speech_ms: Shorter segments are dropped.
        min_silence_ms: Silence that closes a segment.
        speech_pad_ms: Audio kept before and after each segment (never past its neighbours).
        block_seconds: Audio read from the file at a time.
        pool_seconds: Closed segments are decoded together once this much audio is waiting.
    """

    max_segment_seconds: float = 20.0
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 300
    speech_pad_ms: int = 100
    block_seconds: float = 30.0
    pool_seconds: float = 120.0

    def __post_init__(self) -> None:
        check_number("max_segment_seconds", self.max_segment_seconds, 1.0)
        check_number("threshold", self.threshold, 0.15, 1.0)
        for name in ("min_speech_ms", "min_silence_ms", "speech_pad_ms"):
            check_number(name, getattr(self, name), 0.0)
        check_number("block_seconds", self.block_seconds, 0.1)
        check_number("pool_seconds", self.pool_seconds, 0.0)


class Word(NamedTuple):
    """One word of a segment with its start and end (seconds of the file)."""

    text: str
    start: float
    end: float


class Segment(NamedTuple):
    """One decoded stretch of speech.

    Attributes:
        start: Start in seconds of the original file.
        end: End in seconds.
        text: The output text.
        score: The hypothesis' length-normalised log-score.
        tokens: Its token ids.
        words: Words with times (``--word-timestamps``), else None; an empty list when the
            alignment was impossible (more tokens than CTC frames).
    """

    start: float
    end: float
    text: str
    score: float
    tokens: list[int]
    words: list[Word] | None = None

    def to_dict(self) -> dict:
        """JSON-ready: start, end, text, score, and words when there are any."""
        record = {"start": _ms(self.start), "end": _ms(self.end), "text": self.text, "score": self.score}
        if self.words is not None:
            record["words"] = [{"word": w.text, "start": _ms(w.start), "end": _ms(w.end)} for w in self.words]
        return record


def _ms(seconds: float) -> float:
    return round(seconds, 3)


class Span(NamedTuple):
    """A closed speech segment: sample range ``[start, end)`` at the model's rate, and its audio."""

    start: int
    end: int
    audio: torch.Tensor


# Cutting over-long speech ------------------------------------------------------------------------


def quietest(quietness: torch.Tensor, low: int, high: int) -> int:
    """Index in ``[low, high)`` of the quietest frame (lowest value; the earliest on ties)."""
    low, high = max(0, low), min(quietness.numel(), high)
    return low + int(torch.argmin(quietness[low:high]))


def split_points(quietness: torch.Tensor, max_frames: int) -> list[int]:
    """Cut points (frame indices) that leave no piece longer than ``max_frames``, each at the quietest frame.

    A piece up to ``2 * max_frames`` long is cut once in ``[len - max, max]``, so both halves fit;
    a longer one is cut in ``[max / 2, max]`` and the rest is split again (recursively).

    Args:
        quietness: Per-frame loudness, e.g. VAD probability or energy, shape (T,).
        max_frames: The longest piece allowed (at least 2).
    """
    n = quietness.numel()
    if n <= max_frames:
        return []
    low = n - max_frames if n <= 2 * max_frames else max_frames // 2
    cut = max(1, quietest(quietness, low, max_frames + 1))
    return [cut] + [cut + p for p in split_points(quietness[cut:], max_frames)]


# Streaming segmentation ---------------------------------------------------------------------------


def silero_vad() -> Callable[[torch.Tensor], float]:
    """Silero VAD (the model shipped in the ``silero-vad`` package) as ``window (512,) -> P(speech)``.

    Its ONNX build, run by onnxruntime on one thread: called once per 32 ms window, it takes
    about 0.8 of the TorchScript build's time, whose per-call overhead dominates so small a step.
    """
    import warnings

    from silero_vad import load_silero_vad

    with warnings.catch_warnings():  # its loader's deprecation notices are not the user's concern
        warnings.simplefilter("ignore", DeprecationWarning)
        model = load_silero_vad(onnx=True)
    model.reset_states()

    def vad(window: torch.Tensor) -> float:  # onnxruntime: no autograd context to manage
        return float(model(window, VAD_RATE))

    return vad


class Segmenter:
    """Streaming speech segmentation: ``feed`` blocks of audio, get the segments closed so far.

    Args:
        sample_rate: Rate of the fed audio (the model's); the VAD sees it at 16 kHz.
        config: Thresholds and lengths.
        vad: ``window (512 samples at 16 kHz) -> speech probability``; Silero's by default.
            Called once per window in order, so it may carry state.
    """

    def __init__(self, sample_rate: int, config: LongFormConfig, vad: Callable | None = None) -> None:
        self.rate, self.config = sample_rate, config
        self.vad = vad or silero_vad()
        ms = lambda v: int(v * VAD_RATE / 1000 / VAD_WINDOW)  # noqa: E731 - milliseconds -> VAD windows
        self.min_silence, self.min_speech = max(1, ms(config.min_silence_ms)), ms(config.min_speech_ms)
        self.pad = ms(config.speech_pad_ms)
        self.max_frames = max(2, int(config.max_segment_seconds * VAD_RATE / VAD_WINDOW))
        self.frame = 0  # windows seen
        self.rest = torch.zeros(0)  # VAD-rate samples short of a window
        self.buffer, self.buffer_start = torch.zeros(0), 0  # model-rate audio from sample buffer_start on
        self.start: int | None = None  # open segment's first window (padding included)
        self.speech_end: int | None = None  # window where the current silence began
        self.last_end = 0  # end window of the last closed segment
        self.quiet: list[float] = []  # per window of the open segment: P(speech) + 1e-3 * log energy
        self.recent: deque[float] = deque(maxlen=self.pad)  # the same for the windows before it

    def sample(self, frame: int) -> int:
        """Model-rate sample index of VAD window boundary ``frame``."""
        return round(frame * VAD_WINDOW * self.rate / VAD_RATE)

    def feed(self, block: torch.Tensor) -> list[Span]:
        """Take the next samples (1-D, at ``sample_rate``); return the segments that closed."""
        self.buffer = torch.cat([self.buffer, block.float()])
        vad_audio = torch.cat([self.rest, resample(block.float(), self.rate, VAD_RATE)])
        n = vad_audio.numel() // VAD_WINDOW
        self.rest = vad_audio[n * VAD_WINDOW :]
        closed: list[Span] = []
        windows = vad_audio[: n * VAD_WINDOW].view(n, VAD_WINDOW)  # (n * 512,) -> (n, 512)
        energies = windows.pow(2).mean(dim=1).add_(1e-10).log_().tolist()  # all at once, not per window
        for window, energy in zip(windows, energies, strict=True):
            closed += self._step(window, energy)
        self._trim()
        return closed

    def flush(self) -> list[Span]:
        """The end of the audio: close the open segment."""
        if self.start is None:
            return []
        end = self.speech_end if self.speech_end is not None else self.frame
        return self._close(min(end + self.pad, self.frame))

    def _step(self, window: torch.Tensor, energy: float) -> list[Span]:
        """One VAD window (512,) and its log energy; the segments it closes."""
        prob = self.vad(window)
        self.frame += 1
        quiet = prob + 1e-3 * energy
        if self.start is None:
            if prob < self.config.threshold:
                self.recent.append(quiet)
                return []
            self.start, self.speech_end = max(self.frame - 1 - self.pad, self.last_end), None
            before = self.frame - 1 - self.start
            known = list(self.recent)[-before:] if before else []
            self.quiet = [1.0] * (before - len(known)) + known  # windows not kept count as loud
        self.quiet.append(quiet)
        if prob >= self.config.threshold:
            self.speech_end = None
        elif prob < self.config.threshold - 0.15 and self.speech_end is None:
            self.speech_end = self.frame - 1
        if self.speech_end is not None and self.frame - self.speech_end >= self.min_silence:
            return self._close(min(self.speech_end + self.pad, self.frame))
        if self.frame - self.start + self.pad >= self.max_frames:
            return self._cut()
        return []

    def _cut(self) -> list[Span]:
        """Cut the open segment at its quietest window in its second half; the rest stays open."""
        quiet = torch.tensor(self.quiet[: self.max_frames - self.pad])
        cut = self.start + max(1, quietest(quiet, quiet.numel() // 2, quiet.numel()))
        span = self._span(self.start, cut)
        self.quiet = self.quiet[cut - self.start :]
        self.start = self.last_end = cut
        return [span] if span is not None else []

    def _close(self, end: int) -> list[Span]:
        span = self._span(self.start, end)
        self.start, self.speech_end, self.last_end, self.quiet = None, None, end, []
        self.recent.clear()
        return [span] if span is not None else []

    def _span(self, start: int, end: int) -> Span | None:
        if end - start < max(1, self.min_speech):
            return None
        a, b = self.sample(start), min(self.sample(end), self.buffer_start + self.buffer.numel())
        return Span(a, b, self.buffer[a - self.buffer_start : b - self.buffer_start].clone())

    def _trim(self) -> None:
        """Drop audio no segment can need: before the open segment, or before the padding."""
        keep = self.start if self.start is not None else max(self.last_end, self.frame - self.pad)
        drop = self.sample(keep) - self.buffer_start
        if drop > 0:
            self.buffer, self.buffer_start = self.buffer[drop:], self.buffer_start + drop


def read_blocks(path: str | os.PathLike, sample_rate: int, seconds: float) -> Iterator[torch.Tensor]:
    """Mono float32 blocks of about ``seconds`` of ``path``, resampled to ``sample_rate`` block by block.

    Raises:
        AudioError: ``path: problem``: missing, not audio, empty, truncated, or NaN/infinite samples.
    """
    from speech.audio import info

    rate = info(path).sample_rate  # the header checks: missing, empty, not audio
    period = rate // math.gcd(rate, sample_rate)  # whole resampling periods per block: no drift
    frames = max(1, round(seconds * rate / period)) * period
    total = 0
    try:
        with sf.SoundFile(str(path)) as f:
            for data in f.blocks(blocksize=frames, dtype="float32", always_2d=True):
                mono = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
                if not np.isfinite(mono).all():
                    raise AudioError(f"{path}: audio contains NaN or Inf samples")
                total += mono.shape[0]
                yield resample(torch.from_numpy(np.ascontiguousarray(mono)), rate, sample_rate)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(f"{path}: corrupt or truncated audio data ({e})") from None
    if total == 0:
        raise AudioError(f"{path}: audio file has no samples")


def audio_seconds(audio: AudioInput, sample_rate: int) -> float:
    """Duration of a file (from its header) or of a waveform at ``sample_rate``."""
    if isinstance(audio, torch.Tensor):
        return audio.numel() / sample_rate
    from speech.audio import info

    return info(audio).duration


# Decoding -----------------------------------------------------------------------------------------


def iter_segments(
    runner: S2TRunner,
    audio: AudioInput,
    config: LongFormConfig | None = None,
    word_timestamps: bool = False,
    progress: Callable[[float], None] | None = None,
    vad: Callable | None = None,
    **decode_options,
) -> Iterator[Segment]:
    """Decode a recording of any length segment by segment; yields :class:`Segment` in time order.

    Args:
        runner: A loaded recognizer or translator.
        audio: A file (read in blocks) or a 1-D waveform at ``runner.sample_rate``.
        config: Segmentation settings.
        word_timestamps: Add word times from the CTC head (see :func:`check_word_timestamps`).
        progress: Called with the seconds of audio read after each block.
        vad: A VAD callable for :class:`Segmenter` (tests); Silero's by default.
        decode_options: Passed to :meth:`S2TRunner.decode` (beam_size, ctc_weight, lm, lm_weight,
            batch_size).

    Raises:
        AudioError: The file cannot be read (one line naming it).
        SpeechError: A bad setting, or word timestamps from a model without a target CTC head.
    """
    config = config or LongFormConfig()
    if word_timestamps:
        check_word_timestamps(runner)
    rate = runner.sample_rate
    if isinstance(audio, torch.Tensor):
        wave = runner.check_audio(audio, "input (a waveform)")
        step = int(config.block_seconds * rate)
        blocks: Iterator[torch.Tensor] = iter(wave.split(step))
    else:
        blocks = read_blocks(audio, rate, config.block_seconds)
    segmenter = Segmenter(rate, config, vad)
    pool: list[Span] = []
    for block in _with_end(blocks):
        pool += segmenter.feed(block) if block is not None else segmenter.flush()
        if block is not None and progress is not None:
            progress(block.numel() / rate)
        if pool and (block is None or sum(s.audio.numel() for s in pool) >= config.pool_seconds * rate):
            yield from decode_spans(runner, pool, word_timestamps, **decode_options)
            pool = []


def _with_end(blocks: Iterator[torch.Tensor]) -> Iterator[torch.Tensor | None]:
    yield from blocks
    yield None


def decode_spans(
    runner: S2TRunner, spans: list[Span], word_timestamps: bool = False, **decode_options
) -> list[Segment]:
    """Decode closed segments together (length-sorted batches) and build their :class:`Segment`."""
    spans = [s for s in spans if s.audio.numel() >= runner.min_samples]
    if not spans:
        return []
    results = runner.decode([s.audio for s in spans], **decode_options)
    words = align_words(runner, spans, results) if word_timestamps else [None] * len(spans)
    rate = runner.sample_rate
    return [
        Segment(s.start / rate, s.end / rate, r.text, r.score, r.tokens, w)
        for s, r, w in zip(spans, results, words, strict=True)
    ]


# Word timestamps ----------------------------------------------------------------------------------


def check_word_timestamps(runner: S2TRunner) -> None:
    """Refuse word timestamps from a model whose CTC head does not predict its output tokens.

    Raises:
        SpeechError: One line saying why.
    """
    config = runner.model.config
    if runner.model.ctc is None:
        raise SpeechError("word timestamps need a CTC head; this model has none (trained with ctc_weight 0)")
    if config.ctc_tokens != "target":
        raise SpeechError(
            "word timestamps need a CTC head over the output tokens; this model's predicts source tokens"
        )


def ctc_frame_seconds(runner: S2TRunner) -> float:
    """Seconds per CTC frame: hop length times the pyramid reduction before the CTC layer, over the rate."""
    listener = runner.model.listener.config
    layer = listener.ctc_layer % listener.n_layers
    reduction = 2 ** min(layer + 1, listener.n_pyramid)
    return runner.features.config.hop_length * reduction / runner.sample_rate


@torch.no_grad()
def align_words(runner: S2TRunner, spans: list[Span], results: list[S2TResult]) -> list[list[Word]]:
    """Words with times for each decoded segment, by CTC forced alignment of its tokens."""
    import torchaudio.functional as AF

    batch, lengths = pad_sequences([s.audio for s in spans])
    feats, frame_lengths = runner.front_end(batch.to(runner.device), lengths.to(runner.device))
    log_probs, ctc_lengths = runner.model.ctc_log_probs(feats, frame_lengths)
    log_probs = log_probs.float().cpu()
    step, blank, rate = ctc_frame_seconds(runner), runner.model.config.ctc_blank_id, runner.sample_rate
    out = []
    for i, (span, result) in enumerate(zip(spans, results, strict=True)):
        tokens = [t for t in result.tokens if t != blank]
        T = int(ctc_lengths[i])
        repeats = sum(a == b for a, b in zip(tokens, tokens[1:], strict=False))
        if not tokens or T < len(tokens) + repeats:
            out.append([])
            continue
        path, scores = AF.forced_align(log_probs[i : i + 1, :T], torch.tensor([tokens]), blank=blank)
        token_spans = AF.merge_tokens(path[0], scores[0].exp(), blank=blank)
        start, end = span.start / rate, span.end / rate
        words = []
        for text, first, last in token_words(runner.tokenizer, tokens):
            a = min(max(start + token_spans[first].start * step, start), end)
            b = min(max(start + token_spans[last].end * step, a), end)
            words.append(Word(text, a, b))
        out.append(words)
    return out


def token_words(tokenizer, tokens: list[int]) -> list[tuple[str, int, int]]:
    """``(word, first token, last token)`` for each whitespace-separated word of ``decode(tokens)``.

    Works for character and SentencePiece tokenizers alike: each token owns the characters its
    decoded prefix adds.
    """
    text = tokenizer.decode(tokens)
    owner, done = [], 0
    for k in range(1, len(tokens) + 1):
        prefix = tokenizer.decode(tokens[:k])
        grown = len(prefix) if text.startswith(prefix) else done
        owner += [k - 1] * max(0, grown - done)
        done = max(done, grown)
    owner += [len(tokens) - 1] * (len(text) - len(owner))
    return [(m.group(), owner[m.start()], owner[m.end() - 1]) for m in re.finditer(r"\S+", text)]


def with_defaults(config: LongFormConfig | None, **changes) -> LongFormConfig:
    """``config`` (or the defaults) with the given fields replaced; None values are ignored."""
    changes = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(config or LongFormConfig(), **changes)


__all__ = [
    "LongFormConfig",
    "Segment",
    "Segmenter",
    "Span",
    "Word",
    "align_words",
    "check_word_timestamps",
    "decode_spans",
    "iter_segments",
    "read_blocks",
    "split_points",
    "token_words",
]
