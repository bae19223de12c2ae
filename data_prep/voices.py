"""Voices of real speech synthesizers (flite, espeak-ng), with speed and pitch jitter.

A voice is named by a spec string: a flite voice (``slt``, ``rms``, ``awb``, ``kal16``; the
8 kHz ``kal`` is refused) or an espeak-ng language with an optional variant, e.g. ``en-us+m3``,
``en-gb-x-rp+f2``. ``flite:NAME`` and ``espeak:LANG[+VARIANT]`` force the engine. The spec is
the ``speaker`` recorded in the manifests.

Jitter (per utterance, drawn by the caller):

- **pitch** ``p`` (e.g. 0.94-1.06) is applied by resampling: the synthesizer's output, made at
  its native rate ``r``, is read as if sampled at ``p * r`` (rounded to 50 Hz so that the
  resampling kernel stays small) and resampled to the target rate. Pitch and formants move by
  ``p``, like a speaker with a shorter or longer vocal tract (the idea behind speed
  perturbation and VTLP), the same way for both engines.
- **tempo** ``s`` is applied by the engine: flite's ``duration_stretch`` feature, espeak-ng's
  words-per-minute, set to ``p / s`` times the normal duration so that the final tempo is ``s``.

After resampling, leading and trailing silence is trimmed (frames 40 dB below the loudest,
keeping 0.1 s of margin) and the waveform is peak-normalised to 0.9.

**What was spoken** (:func:`spoken_mismatch`): flite prints the words it speaks (``-pw``); they
must equal the transcript once both are normalised (case, hyphens, punctuation, apostrophes).
espeak-ng has no such output, so its text must hold only plain words (letters, apostrophes,
hyphens and sentence punctuation; no digits, symbols or all-capital acronyms it might spell out).
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch

from speech import audio
from speech.errors import ConfigError, SpeechError

FLITE_VOICES = ("slt", "rms", "awb", "kal16")
"""The 16 kHz flite voices Debian's ``flite`` package ships."""
ESPEAK_RATE = 22050
"""Native sample rate of espeak-ng's ``-w`` output."""
FLITE_RATE = 16000
"""Native sample rate of the 16 kHz flite voices."""
_ESPEAK_WPM = 175
_PEAK = 0.9
_TRIM_DB = 40.0
_TRIM_MARGIN_S = 0.1
_PLAIN_TEXT = re.compile(r"[A-Za-z][A-Za-z' ,.?!;:-]*")
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Voice:
    """One synthesizer voice.

    Attributes:
        engine: ``"flite"`` or ``"espeak"``.
        name: flite voice name, or espeak-ng language (e.g. ``"en-us"``).
        variant: espeak-ng variant (e.g. ``"m3"``); ``None`` for flite or the default variant.
    """

    engine: Literal["flite", "espeak"]
    name: str
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ("flite", "espeak"):
            raise ConfigError(f"unknown speech engine '{self.engine}' (use flite or espeak)")
        if self.engine == "flite" and self.variant is not None:
            raise ConfigError(f"flite voice '{self.name}' takes no variant")

    @property
    def spec(self) -> str:
        """The voice's name as written on the command line and recorded as the speaker."""
        return self.name if self.variant is None else f"{self.name}+{self.variant}"

    @property
    def native_rate(self) -> int:
        """Sample rate of the engine's raw output in Hz."""
        return FLITE_RATE if self.engine == "flite" else ESPEAK_RATE

    @property
    def package(self) -> dict[str, str]:
        """The command this voice needs and the Debian package that provides it."""
        return {"flite": "flite"} if self.engine == "flite" else {"espeak-ng": "espeak-ng"}


def parse_voice(spec: str) -> Voice:
    """Parse a voice spec (``slt``, ``en-us+m3``, ``flite:awb``, ``espeak:en-gb``).

    Raises:
        ConfigError: An empty spec, an unknown engine prefix, or ``kal`` (8 kHz).
    """
    spec = spec.strip()
    engine, _, rest = spec.partition(":") if ":" in spec else ("", "", spec)
    if not rest:
        raise ConfigError(f"empty voice name in '{spec}'")
    if engine == "flite" or (not engine and rest in FLITE_VOICES + ("kal",)):
        if rest == "kal":
            raise ConfigError("flite voice 'kal' is 8 kHz; use kal16")
        return Voice("flite", rest)
    if engine not in ("", "espeak"):
        raise ConfigError(f"unknown speech engine '{engine}' in voice '{spec}' (use flite: or espeak:)")
    name, _, variant = rest.partition("+")
    return Voice("espeak", name, variant or None)


def check_voice(voice: Voice) -> None:
    """Check that the installed engine has this voice (both engines fall back silently otherwise).

    Raises:
        ConfigError: The voice, language or variant is not installed.
    """
    if voice.engine == "flite":
        if voice.name not in _flite_voices():
            raise ConfigError(f"flite has no voice '{voice.name}' (available: {' '.join(_flite_voices())})")
        return
    languages, variants = _espeak_voices()
    if voice.name not in languages:
        examples = " ".join(sorted(lang for lang in languages if lang.startswith("en")))
        raise ConfigError(f"espeak-ng has no language '{voice.name}' (English ones: {examples})")
    if voice.variant is not None and voice.variant not in variants:
        raise ConfigError(f"espeak-ng has no variant '{voice.variant}' (e.g. m1-m7, f1-f5)")


@functools.lru_cache(maxsize=1)
def _flite_voices() -> tuple[str, ...]:
    out = _run(["flite", "-lv"]).stdout
    return tuple(out.split(":", 1)[-1].split())


@functools.lru_cache(maxsize=1)
def _espeak_voices() -> tuple[frozenset[str], frozenset[str]]:
    rows = _run(["espeak-ng", "--voices"]).stdout.splitlines()[1:]
    languages = {row.split()[1] for row in rows if row.strip()}
    rows = _run(["espeak-ng", "--voices=variant"]).stdout.splitlines()[1:]
    variants = {row.split()[-1].rsplit("/", 1)[-1] for row in rows if row.strip()}
    return frozenset(languages), frozenset(variants)


class Rendered(NamedTuple):
    """Raw synthesizer output.

    Attributes:
        waveform: Shape (T,), float32 at ``sample_rate``.
        sample_rate: The engine's native rate.
        words: The words flite printed (``None`` for espeak-ng).
    """

    waveform: torch.Tensor
    sample_rate: int
    words: str | None


def source_rate(voice: Voice, pitch: float) -> int:
    """The rate the raw output is read at to raise its pitch by ``pitch`` (a multiple of 50 Hz)."""
    return max(50, round(voice.native_rate * pitch / 50) * 50)


def render(voice: Voice, text: str, tempo: float, pitch: float, work_path: Path) -> Rendered:
    """Run the synthesizer on ``text`` with tempo compensated for the later pitch shift.

    Args:
        voice: The voice.
        text: What to say.
        tempo: Speaking-rate factor (> 1 is faster).
        pitch: Pitch factor that :func:`finish` will apply.
        work_path: Scratch ``.wav`` path for the engine's output; removed afterwards.

    Raises:
        SpeechError: The engine fails or writes no audio.
    """
    stretch = source_rate(voice, pitch) / voice.native_rate / tempo
    if voice.engine == "flite":
        command = [
            "flite",
            "-voice",
            voice.name,
            "--setf",
            f"duration_stretch={stretch:.4f}",
            "-pw",
            "-t",
            text,
            "-o",
            str(work_path),
        ]
    else:
        wpm = max(80, round(_ESPEAK_WPM / stretch))
        command = ["espeak-ng", "-v", voice.spec, "-s", str(wpm), "-w", str(work_path), text]
    try:
        result = _run(command)
        waveform, rate = audio.load_with_rate(work_path)
    finally:
        work_path.unlink(missing_ok=True)
    words = result.stdout.strip() if voice.engine == "flite" else None
    return Rendered(waveform, rate, words)


def finish(rendered: Rendered, voice: Voice, pitch: float, sample_rate: int) -> torch.Tensor:
    """Pitch-shift by resampling, trim silence and peak-normalise.

    Args:
        rendered: The engine's output.
        voice: The voice that made it.
        pitch: Pitch factor.
        sample_rate: Target rate in Hz.

    Returns:
        Waveform of shape (T',) at ``sample_rate``.
    """
    rate = source_rate(voice, pitch) * rendered.sample_rate // voice.native_rate
    waveform = audio.resample(rendered.waveform, rate, sample_rate)
    waveform = trim_silence(waveform, sample_rate)
    peak = float(waveform.abs().max())
    return waveform * (_PEAK / peak) if peak > 0 else waveform


def trim_silence(
    waveform: torch.Tensor, sample_rate: int, top_db: float = _TRIM_DB, margin_s: float = _TRIM_MARGIN_S
) -> torch.Tensor:
    """Cut leading and trailing 10 ms frames more than ``top_db`` below the loudest, keeping a margin.

    Args:
        waveform: Shape (T,).
        sample_rate: Its rate in Hz.
        top_db: Frames this far below the loudest frame's RMS count as silence.
        margin_s: Seconds of the silence kept on each side.

    Returns:
        Shape (T',), a slice of ``waveform``; unchanged when it is all silence.
    """
    hop = max(1, sample_rate // 100)
    frames = waveform[: waveform.numel() // hop * hop].reshape(-1, hop)  # (T,) -> (frames, hop)
    if frames.numel() == 0:
        return waveform
    rms = frames.pow(2).mean(dim=1).sqrt()
    loud = torch.nonzero(rms > rms.max() * 10 ** (-top_db / 20)).flatten()
    if loud.numel() == 0:
        return waveform
    margin = round(margin_s * sample_rate)
    start = max(0, int(loud[0]) * hop - margin)
    end = min(waveform.numel(), (int(loud[-1]) + 1) * hop + margin)
    return waveform[start:end]


def normalize_words(text: str) -> str:
    """Lower-case words with hyphens as spaces and punctuation and apostrophes removed.

    ``"Twenty-one, he's"`` and flite's ``"twenty one he 's"`` both give ``"twenty one hes"``.
    """
    text = re.sub(r"\s+'", "'", text.lower().replace("-", " "))
    text = re.sub(r"[^a-z0-9' ]+", " ", text).replace("'", "")
    return " ".join(text.split())


def spoken_mismatch(voice: Voice, text: str, words: str | None) -> str | None:
    """Why the audio may not say exactly ``text``, or ``None`` when it does.

    Args:
        voice: The voice that spoke.
        text: The transcript.
        words: The words flite printed (ignored for espeak-ng).
    """
    if voice.engine == "flite":
        said = normalize_words(words or "")
        return None if said == normalize_words(text) else f"flite said '{said}'"
    if not _PLAIN_TEXT.fullmatch(text):
        return "text has digits or symbols espeak-ng may read differently"
    if _ACRONYM.search(text):
        return "text has an all-capital word espeak-ng may spell out"
    return None


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SpeechError(f"'{command[0]}' is not installed (run: python -m data_prep.sysdeps)") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SpeechError(f"{command[0]} failed with exit code {result.returncode}: {reason}")
    return result
