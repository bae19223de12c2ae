"""What the built-in corpora (``mini``, ``ding``) share: jitter options, job drawing, CLI options.

Every jittered utterance draws, from a random generator seeded with ``(seed, utterance id)`` and
in this order: its voice (:func:`data_prep.voice_sets.draw_voice`: an engine, then a voice of
it), its tempo (``1 ± tempo_jitter``), its pitch (``1 ± pitch_jitter``) and its prosody
(:class:`data_prep.voices.Prosody`: mean F0 ``1 ± prosody_jitter``, F0 spread
``1 ± 2 * prosody_jitter``). The output thus depends on the options only, not on the worker
count. TTS utterances are spoken by one voice with none of this (all factors 1).

The ``test_unseen`` split re-speaks the test split's texts, each once, by a voice drawn the same
way from ``unseen_voices`` only (none of which is in ``voices``), with the same jitter; its
utterance ids are the test ids with ``test`` replaced by ``test_unseen``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep import sysdeps, voices
from data_prep.builder import DONE, Job
from data_prep.cli import DEFAULT_JOBS, add_jobs_option, add_output_options
from data_prep.voice_sets import (
    ESPEAK_UNSEEN_ACCENTS,
    ESPEAK_UNSEEN_VARIANTS,
    FESTIVAL_UNSEEN,
    TRAIN_VOICES,
    UNSEEN_VOICES,
    draw_voice,
    voice_groups,
)
from speech.errors import ConfigError
from speech.io import check_output_dir, check_output_file

SPLITS = ("train", "dev", "test")
UNSEEN = "test_unseen"
"""Name of the held-out-voice split."""
ASR_RATE = 16000
TTS_RATE = 22050
_UNSEEN_HELP = (
    f"{', '.join(FESTIVAL_UNSEEN)} and espeak-ng {', '.join(ESPEAK_UNSEEN_ACCENTS)} "
    f"x {', '.join(ESPEAK_UNSEEN_VARIANTS)}"
)


@dataclass
class JitterConfig:
    """Per-utterance voice variation shared by both corpora.

    Attributes:
        voices: Voice specs (:func:`data_prep.voices.parse_voice`) of train, dev and test; one is
            drawn per utterance (:func:`data_prep.voice_sets.draw_voice`).
        unseen_voices: Voices of the ``test_unseen`` split, none of them in ``voices``; empty:
            no such split.
        tempo_jitter: Speaking rate is drawn uniformly from ``1 ± tempo_jitter``.
        pitch_jitter: Pitch (and formants) move by a factor drawn from ``1 ± pitch_jitter``.
        prosody_jitter: The intonation's mean F0 moves by a factor drawn from
            ``1 ± prosody_jitter``, its spread by one from ``1 ± 2 * prosody_jitter`` (0: off).
        seed: Seed of every random choice.
        jobs: Worker processes (does not change the output).
    """

    voices: tuple[str, ...] = TRAIN_VOICES
    unseen_voices: tuple[str, ...] = UNSEEN_VOICES
    tempo_jitter: float = 0.1
    pitch_jitter: float = 0.06
    prosody_jitter: float = 0.15
    seed: int = 0
    jobs: int = DEFAULT_JOBS

    def __post_init__(self) -> None:
        self.voices, self.unseen_voices = tuple(self.voices), tuple(self.unseen_voices)
        if not self.voices:
            raise ConfigError("at least one voice is needed")
        for specs, what in ((self.voices, "voices"), (self.unseen_voices, "unseen voices")):
            if len(set(specs)) != len(specs):
                raise ConfigError(f"{what} repeat: {','.join(specs)}")
        jitters = (self.tempo_jitter, self.pitch_jitter, self.prosody_jitter)
        for value, name in zip(jitters, ("tempo_jitter", "pitch_jitter", "prosody_jitter"), strict=True):
            if not 0 <= value < 0.5:
                raise ConfigError(f"{name} must be in [0, 0.5), got {value}")
        if self.jobs < 1:
            raise ConfigError(f"jobs must be at least 1, got {self.jobs}")
        trained = {voices.parse_voice(spec).speaker_key for spec in self.voices}
        shared = [spec for spec in self.unseen_voices if voices.parse_voice(spec).speaker_key in trained]
        if shared:
            raise ConfigError(f"unseen voices must not be training voices (--voices): {','.join(shared)}")


def check_out(out: Path) -> None:
    """The corpus folder and its marker can be written (checked again per file once planned)."""
    check_output_dir(out, "corpus folder")
    check_output_file(out / DONE, "corpus file")


def ready_voices(specs: tuple[str, ...], extra: dict[str, str]) -> dict[str, voices.Voice]:
    """Parse voice specs, install their engines' packages (and ``extra``) and check each voice."""
    parsed = {spec: voices.parse_voice(spec) for spec in specs}
    needed = dict(extra)
    for voice in parsed.values():
        needed.update(voice.package)
    sysdeps.ensure_debian_packages(needed)
    for voice in parsed.values():
        voices.check_voice(voice)
    return parsed


def options(config: JitterConfig) -> dict[str, Any]:
    """The config fields that determine the output (all but ``out`` and ``jobs``), JSON-ready."""
    fields = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("out", "jobs")}
    return {
        k: list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v
        for k, v in fields.items()
    }


def jittered_jobs(
    config: JitterConfig,
    voice_list: dict[str, voices.Voice],
    specs: tuple[str, ...],
    items: list[tuple[str, str, str]],
) -> list[Job]:
    """One jittered 16 kHz job per ``(utterance id, text, audio path)``, its voice drawn from ``specs``."""
    groups = voice_groups(specs)
    return [jittered_job(config, voice_list, groups, *item) for item in items]


def jittered_job(
    config: JitterConfig,
    voice_list: dict[str, voices.Voice],
    groups: tuple[tuple[str, ...], ...],
    utt_id: str,
    text: str,
    audio: str,
) -> Job:
    """A job whose voice, tempo, pitch and prosody are drawn from a generator seeded with (seed, id)."""
    rng = random.Random(f"{config.seed}:{utt_id}")
    spec = draw_voice(rng, groups)
    tempo = round(rng.uniform(1 - config.tempo_jitter, 1 + config.tempo_jitter), 3)
    pitch = round(rng.uniform(1 - config.pitch_jitter, 1 + config.pitch_jitter), 3)
    spread = 2 * config.prosody_jitter
    prosody = voices.Prosody(
        round(rng.uniform(1 - config.prosody_jitter, 1 + config.prosody_jitter), 3),
        round(rng.uniform(1 - spread, 1 + spread), 3),
    )
    return Job(utt_id, text, voice_list[spec], tempo, pitch, ASR_RATE, audio, prosody)


def tts_jobs(prefix: str, split: str, texts: list[str], voice: voices.Voice) -> list[Job]:
    """22.05 kHz jobs of one voice without jitter, ids ``<prefix>-<split>-NNNNN``, in ``tts/wavs/``."""
    return [
        Job(utt_id, text, voice, 1.0, 1.0, TTS_RATE, f"tts/wavs/{split}/{utt_id}.wav")
        for utt_id, text in ids(prefix, split, texts)
    ]


def ids(prefix: str, split: str, items: list[Any]) -> list[tuple[str, Any]]:
    """``(f"{prefix}-{split}-NNNNN", item)`` per item, numbered from 0."""
    return [(f"{prefix}-{split}-{index:05d}", item) for index, item in enumerate(items)]


def add_out_dir(parser: argparse.ArgumentParser, default: Path) -> None:
    """``--out-dir``, the one spelling of an output folder; ``--out`` stays as a hidden alias."""
    parser.add_argument(
        "--out-dir",
        dest="out",
        type=Path,
        default=default,
        metavar="DIR",
        help="corpus folder (default: %(default)s)",
    )
    parser.add_argument("--out", dest="out", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def csv(text: str) -> tuple[str, ...]:
    """Argparse type: ``"a, b"`` -> ``("a", "b")``; ``""`` -> ``()``."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def add_tts_args(parser: argparse.ArgumentParser, sizes: tuple[int, int, int]) -> None:
    """``--tts-train/--tts-dev/--tts-test N``, ``--tts-voice``, ``--no-asr`` and ``--no-tts``."""
    for split, default in zip(SPLITS, sizes, strict=True):
        parser.add_argument(
            f"--tts-{split}",
            type=int,
            default=default,
            metavar="N",
            help=f"TTS {split} utterances (default: {default})",
        )
    parser.add_argument("--tts-voice", default="slt", help="TTS voice (default: %(default)s)")
    parser.add_argument("--no-asr", action="store_true", help="skip the ASR/ST part (TTS part only)")
    parser.add_argument("--no-tts", action="store_true", help="skip the TTS part")


def add_jitter_args(parser: argparse.ArgumentParser) -> None:
    """The :class:`JitterConfig` options, ``--seed``, ``--jobs``, ``--quiet`` and ``--json``."""
    parser.add_argument(
        "--voices",
        type=csv,
        default=TRAIN_VOICES,
        metavar="V1,V2",
        help="training voices: flite voices, espeak-ng lang+variant, festival:NAME (default: the 4 "
        "flite voices and 6 espeak-ng accents x 10 variants; see data_prep.voice_sets)",
    )
    parser.add_argument(
        "--unseen-voices",
        type=csv,
        default=UNSEEN_VOICES,
        metavar="V1,V2",
        help="voices of the test_unseen split, none in --voices; '' for no such split "
        f"(default: {_UNSEEN_HELP})",
    )
    for name, default, what in (
        ("tempo", 0.1, "speaking rate drawn from 1±X"),
        ("pitch", 0.06, "pitch (and formants) drawn from 1±X"),
        ("prosody", 0.15, "intonation mean F0 drawn from 1±X, its spread from 1±2X; 0: off"),
    ):
        parser.add_argument(
            f"--{name}-jitter", type=float, default=default, metavar="X", help=f"{what} (default: {default})"
        )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add_jobs_option(parser, "processes synthesizing")
    add_output_options(parser)


def jitter_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`JitterConfig` fields (and ``out``) from parsed :func:`add_jitter_args` options."""
    return {
        "voices": args.voices,
        "unseen_voices": args.unseen_voices,
        "tempo_jitter": args.tempo_jitter,
        "pitch_jitter": args.pitch_jitter,
        "prosody_jitter": args.prosody_jitter,
        "seed": args.seed,
        "jobs": args.jobs,
        "out": args.out,
    }
