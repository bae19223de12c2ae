"""Voices of real speech synthesizers (flite, espeak-ng, festival), with speed, pitch and prosody jitter.

A voice is named by a spec string: a flite voice (``slt``, ``rms``, ``awb``, ``kal16``; the
8 kHz ``kal`` is refused), an espeak-ng language with an optional variant, e.g. ``en-us+m3``,
``en-gb-x-rp+f2``, or a festival voice, ``festival:ked_diphone`` (short form ``festival:ked``;
the bare ``ked_diphone`` and ``kal_diphone`` work too). ``flite:NAME`` and
``espeak:LANG[+VARIANT]`` force the engine. The spec (festival's with its ``festival:`` prefix)
is the ``speaker`` recorded in the manifests. Debian ships festival's ``ked_diphone`` (CMU's
KED, US male; package ``festvox-kdlpc16k``) and ``kal_diphone`` (``festvox-kallpc16k``); the
latter is recorded from the same speaker as flite's ``kal16`` (:attr:`Voice.speaker_key`).

Jitter (per utterance, drawn by the caller):

- **pitch** ``p`` (e.g. 0.94-1.06) is applied by resampling: the synthesizer's output, made at
  its native rate ``r``, is read as if sampled at ``p * r`` (rounded to 50 Hz so that the
  resampling kernel stays small) and resampled to the target rate. Pitch and formants move by
  ``p``, like a speaker with a shorter or longer vocal tract (the idea behind speed
  perturbation and VTLP), the same way for every engine.
- **tempo** ``s`` is applied by the engine: flite's ``duration_stretch`` feature, espeak-ng's
  words-per-minute, festival's ``Duration_Stretch`` parameter, set to ``p / s`` times the normal
  duration so that the final tempo is ``s``.
- **prosody** (:class:`Prosody`: factors on the intonation's mean F0 and on its spread) is
  applied by the engine's intonation model: flite's ``int_f0_target_mean`` and
  ``int_f0_target_stddev`` features (set to the factors times the voice's own values,
  :data:`FLITE_F0`; ``rms`` ignores them), festival's ``int_lr_params`` targets
  (:data:`FESTIVAL_F0`), espeak-ng's ``-p`` pitch (``50 + 100 * (mean - 1)``, clamped to 0-99:
  one step moves F0 by roughly 0.8 %; espeak-ng has no spread option). Unlike the pitch shift it
  changes the melody, not the formants.

After resampling, leading and trailing silence is trimmed (frames 40 dB below the loudest,
keeping 0.1 s of margin) and the waveform is peak-normalised to 0.9.

**What was spoken** (:func:`spoken_mismatch`): flite prints the words it speaks (``-pw``); they
must equal the transcript once both are normalised (case, hyphens, punctuation, apostrophes).
espeak-ng and festival have no such output, so their text must hold only plain words (letters,
apostrophes, hyphens and sentence punctuation; no digits, symbols or all-capital acronyms they
might spell out).
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
FESTIVAL_RATE = 16000
"""Native sample rate of Debian's festival diphone voices (the file's own rate is what is read)."""
FLITE_F0: dict[str, tuple[float, float]] = {
    "slt": (172.0, 27.0),
    "rms": (98.0, 24.0),
    "awb": (132.0, 25.0),
    "kal16": (95.0, 11.0),
}
"""Each flite voice's own intonation target (mean F0, F0 standard deviation in Hz), from its data."""
FESTIVAL_F0: dict[str, tuple[float, float]] = {"ked_diphone": (105.0, 15.0), "kal_diphone": (105.0, 14.0)}
"""Each festival diphone voice's ``int_lr_params`` target (mean F0, F0 standard deviation in Hz)."""
FESTIVAL_PACKAGES = {"ked_diphone": "festvox-kdlpc16k", "kal_diphone": "festvox-kallpc16k"}
"""The Debian package of each festival voice known here."""
FESTIVAL_VOICE_DIR = "/usr/share/festival/voices/english"
_FESTIVAL_MODEL_F0 = "(model_f0_mean 170) (model_f0_std 34)"
_SAME_SPEAKER = {"festival:kal_diphone": "flite:kal16"}
_ESPEAK_WPM = 175
_PEAK = 0.9
_TRIM_DB = 40.0
_TRIM_MARGIN_S = 0.1
_PLAIN_TEXT = re.compile(r"[A-Za-z][A-Za-z' ,.?!;:-]*")
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
_FESTIVAL_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ENGINES = ("flite", "espeak", "festival")


@dataclass(frozen=True)
class Voice:
    """One synthesizer voice.

    Attributes:
        engine: ``"flite"``, ``"espeak"`` or ``"festival"``.
        name: flite or festival voice name, or espeak-ng language (e.g. ``"en-us"``).
        variant: espeak-ng variant (e.g. ``"m3"``); ``None`` otherwise or for the default variant.
    """

    engine: Literal["flite", "espeak", "festival"]
    name: str
    variant: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in _ENGINES:
            raise ConfigError(f"unknown speech engine '{self.engine}' (use {', '.join(_ENGINES)})")
        if self.engine != "espeak" and self.variant is not None:
            raise ConfigError(f"{self.engine} voice '{self.name}' takes no variant")
        if self.engine == "festival" and not _FESTIVAL_NAME.fullmatch(self.name):
            raise ConfigError(f"festival voice name '{self.name}' must be lower-case letters, digits, _")

    @property
    def spec(self) -> str:
        """The voice's name as written on the command line and recorded as the speaker."""
        if self.engine == "festival":
            return f"festival:{self.name}"
        return self.name if self.variant is None else f"{self.name}+{self.variant}"

    @property
    def speaker_key(self) -> str:
        """``engine:spec``, the same for two engines' voices made from one recorded speaker."""
        key = f"{self.engine}:{self.spec.removeprefix('festival:')}"
        return _SAME_SPEAKER.get(key, key)

    @property
    def native_rate(self) -> int:
        """Sample rate of the engine's raw output in Hz."""
        return {"flite": FLITE_RATE, "espeak": ESPEAK_RATE, "festival": FESTIVAL_RATE}[self.engine]

    @property
    def package(self) -> dict[str, str]:
        """The commands (or files) this voice needs and the Debian packages that provide them."""
        if self.engine == "flite":
            return {"flite": "flite"}
        if self.engine == "espeak":
            return {"espeak-ng": "espeak-ng"}
        needs = {"text2wave": "festival"}
        if self.name in FESTIVAL_PACKAGES:
            needs[f"{FESTIVAL_VOICE_DIR}/{self.name}/festvox/{self.name}.scm"] = FESTIVAL_PACKAGES[self.name]
        return needs


def parse_voice(spec: str) -> Voice:
    """Parse a voice spec (``slt``, ``en-us+m3``, ``flite:awb``, ``espeak:en-gb``, ``festival:ked``).

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
    if engine == "festival" or (not engine and rest in FESTIVAL_PACKAGES):
        short = f"{rest}_diphone"
        return Voice("festival", short if short in FESTIVAL_PACKAGES else rest)
    if engine not in ("", "espeak"):
        raise ConfigError(
            f"unknown speech engine '{engine}' in voice '{spec}' (use flite:, espeak: or festival:)"
        )
    name, _, variant = rest.partition("+")
    return Voice("espeak", name, variant or None)


def check_voice(voice: Voice) -> None:
    """Check that the installed engine has this voice (flite and espeak-ng fall back silently).

    Raises:
        ConfigError: The voice, language or variant is not installed.
    """
    if voice.engine == "flite":
        if voice.name not in _flite_voices():
            raise ConfigError(f"flite has no voice '{voice.name}' (available: {' '.join(_flite_voices())})")
        return
    if voice.engine == "festival":
        if voice.name not in _festival_voices():
            available = " ".join(_festival_voices()) or "none"
            raise ConfigError(f"festival has no voice '{voice.name}' (available: {available})")
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
def _festival_voices() -> tuple[str, ...]:
    out = _run(["festival", "-b", "(print (voice.list))"]).stdout
    return tuple(out.replace("(", " ").replace(")", " ").split())


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
        words: The words flite printed (``None`` for espeak-ng and festival).
    """

    waveform: torch.Tensor
    sample_rate: int
    words: str | None


class Prosody(NamedTuple):
    """Intonation factors of one utterance (1.0 each: the voice's own).

    Attributes:
        f0_mean: Factor on the mean F0 the intonation model aims at.
        f0_range: Factor on the spread (standard deviation) of F0 around that mean.
    """

    f0_mean: float = 1.0
    f0_range: float = 1.0


NEUTRAL = Prosody()
"""No prosody change."""


def source_rate(voice: Voice, pitch: float) -> int:
    """The rate the raw output is read at to raise its pitch by ``pitch`` (a multiple of 50 Hz)."""
    return max(50, round(voice.native_rate * pitch / 50) * 50)


def render(
    voice: Voice, text: str, tempo: float, pitch: float, work_path: Path, prosody: Prosody = NEUTRAL
) -> Rendered:
    """Run the synthesizer on ``text`` with tempo compensated for the later pitch shift.

    Args:
        voice: The voice.
        text: What to say.
        tempo: Speaking-rate factor (> 1 is faster).
        pitch: Pitch factor that :func:`finish` will apply.
        work_path: Scratch ``.wav`` path for the engine's output; removed afterwards.
        prosody: Intonation factors applied by the engine.

    Raises:
        SpeechError: The engine fails or writes no audio.
    """
    stretch = source_rate(voice, pitch) / voice.native_rate / tempo
    stdin = None
    if voice.engine == "flite":
        command = _flite_command(voice, text, stretch, prosody, work_path)
    elif voice.engine == "festival":
        command, stdin = _festival_command(voice, stretch, prosody, work_path), text
    else:
        wpm = max(80, round(_ESPEAK_WPM / stretch))
        command = ["espeak-ng", "-v", voice.spec, "-s", str(wpm), "-p", str(espeak_pitch(prosody))]
        command += ["-w", str(work_path), text]
    try:
        result = _run(command, stdin)
        if not work_path.is_file():
            reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise SpeechError(f"{command[0]} wrote no audio for voice '{voice.spec}': {reason}")
        waveform, rate = audio.load_with_rate(work_path)
    finally:
        work_path.unlink(missing_ok=True)
    words = result.stdout.strip() if voice.engine == "flite" else None
    return Rendered(waveform, rate, words)


def espeak_pitch(prosody: Prosody) -> int:
    """espeak-ng's ``-p`` (0-99, 50 = the voice's own) for a mean-F0 factor."""
    return min(99, max(0, round(50 + 100 * (prosody.f0_mean - 1))))


def _flite_command(voice: Voice, text: str, stretch: float, prosody: Prosody, out: Path) -> list[str]:
    command = ["flite", "-voice", voice.name, "--setf", f"duration_stretch={stretch:.4f}"]
    if prosody != NEUTRAL and voice.name in FLITE_F0:
        mean, stddev = FLITE_F0[voice.name]
        command += ["--setf", f"int_f0_target_mean={mean * prosody.f0_mean:.2f}"]
        command += ["--setf", f"int_f0_target_stddev={stddev * prosody.f0_range:.2f}"]
    return command + ["-pw", "-t", text, "-o", str(out)]


def _festival_command(voice: Voice, stretch: float, prosody: Prosody, out: Path) -> list[str]:
    """``text2wave`` reading the text from stdin; the voice name was checked to be a plain word."""
    command = ["text2wave", "-eval", f"(voice_{voice.name})"]
    command += ["-eval", f"(Parameter.set 'Duration_Stretch {stretch:.4f})"]
    if prosody != NEUTRAL and voice.name in FESTIVAL_F0:
        mean, stddev = FESTIVAL_F0[voice.name]
        mean, stddev = mean * prosody.f0_mean, stddev * prosody.f0_range
        targets = f"(target_f0_mean {mean:.2f}) (target_f0_std {stddev:.2f})"
        command += ["-eval", f"(set! int_lr_params '({targets} {_FESTIVAL_MODEL_F0}))"]
    return command + ["-o", str(out)]


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
        words: The words flite printed (ignored for espeak-ng and festival).
    """
    if voice.engine == "flite":
        said = normalize_words(words or "")
        return None if said == normalize_words(text) else f"flite said '{said}'"
    engine = "espeak-ng" if voice.engine == "espeak" else voice.engine
    if not _PLAIN_TEXT.fullmatch(text):
        return f"text has digits or symbols {engine} may read differently"
    if _ACRONYM.search(text):
        return f"text has an all-capital word {engine} may spell out"
    return None


def _run(command: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SpeechError(f"'{command[0]}' is not installed (run: python -m data_prep.sysdeps)") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SpeechError(f"{command[0]} failed with exit code {result.returncode}: {reason}")
    return result
