"""Built-in corpora spoken by real synthesizers: ``speech prepare mini`` and ``speech prepare ding``.

**mini** (the embedded default; small vocabulary, trains in minutes on a CPU). Text: English
cardinal numbers (:func:`data_prep.numbers.sample_numbers`: 0-999,999, digit count drawn
uniformly so short and long numbers both occur), written ``num2words(n, lang="en")``, e.g.
``"one hundred and twenty-three thousand, four hundred and fifty-six"``; translations are
``num2words(n, lang=L)`` for each target language (default French, German). Splits are disjoint
by number. Layout under ``--out-dir`` (default ``data/mini``)::

    wavs/{train,dev,test}/mini-<split>-NNNNN.wav   16 kHz, voices drawn per utterance, jittered
    {train,dev,test}.jsonl       ASR, and ST into the first target language (fr): text,
                                 translation, target_lang, speaker, lang
    de/{train,dev,test}.jsonl    the same utterances with the German translation (one folder per
                                 further target language; audio paths are ``../wavs/...``)
    tts/wavs/{split}/*.wav       22.05 kHz, one voice (flite slt), no jitter
    tts/{train,dev,test}.jsonl   TTS: text, speaker (numbers drawn apart from the ASR part's, but
                                 a number is in the same split in both parts)

**ding** (the realistic tier, open vocabulary): clean English sentences of 3-20 words with their
German translations from the Ding dictionary (:mod:`data_prep.ding`, about 13,800 pairs), spoken
by the flite voices. Splits are disjoint by English and by German sentence. Layout under
``--out-dir`` (default ``data/ding``): ``wavs/{split}/*.wav`` (16 kHz) and ``{train,dev,test}.jsonl``
with ``text`` (English), ``translation`` (German), ``target_lang`` ``de``.

Every utterance's voice, tempo and pitch come from a random generator seeded with
``(seed, utterance id)``, so the output depends on the options only, not on the worker count.
Utterances whose audio may not say exactly the text (:func:`data_prep.voices.spoken_mismatch`)
are dropped and counted. Completion markers, resume and parallelism: :mod:`data_prep.builder`.
The options hashed into the marker are all the config fields except ``out`` and ``jobs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep import ding, sysdeps, voices
from data_prep.builder import (
    DONE,
    CorpusPlan,
    CorpusSummary,
    Entry,
    Job,
    ManifestPlan,
    build_corpus,
    up_to_date,
)
from data_prep.cli import DEFAULT_JOBS, add_jobs_option, add_output_options, print_summary
from data_prep.numbers import MAX_SIZES, check_language, sample_numbers, spoken
from speech.errors import ConfigError
from speech.io import check_output_dir, check_output_file

SPLITS = ("train", "dev", "test")
DEFAULT_VOICES = ("slt", "rms", "awb", "kal16", "en-us+m3", "en-us+f3", "en-gb+m1", "en-gb-x-rp+f2")
"""Four flite voices and four espeak-ng language+variant voices."""
FLITE_ONLY = ("slt", "rms", "awb", "kal16")
ASR_RATE = 16000
TTS_RATE = 22050
_MINI_HELP = (
    "English cardinal numbers (num2words) spoken by flite and espeak-ng voices with tempo and "
    "pitch jitter: 16 kHz ASR/ST manifests OUT/{train,dev,test}.jsonl (French translation) and "
    "OUT/de/*.jsonl (German), plus 22.05 kHz single-voice TTS manifests OUT/tts/*.jsonl."
)
_DING_HELP = (
    "English sentences (3-20 words) with German translations from the Ding dictionary, spoken by "
    "flite voices with tempo and pitch jitter: 16 kHz manifests OUT/{train,dev,test}.jsonl."
)


@dataclass
class JitterConfig:
    """Per-utterance voice variation shared by both corpora.

    Attributes:
        voices: Voice specs (:func:`data_prep.voices.parse_voice`); one is drawn per utterance.
        tempo_jitter: Speaking rate is drawn uniformly from ``1 ± tempo_jitter``.
        pitch_jitter: Pitch (and formants) move by a factor drawn from ``1 ± pitch_jitter``.
        seed: Seed of every random choice.
        jobs: Worker processes (does not change the output).
    """

    voices: tuple[str, ...] = DEFAULT_VOICES
    tempo_jitter: float = 0.1
    pitch_jitter: float = 0.06
    seed: int = 0
    jobs: int = DEFAULT_JOBS

    def __post_init__(self) -> None:
        self.voices = tuple(self.voices)
        if not self.voices:
            raise ConfigError("at least one voice is needed")
        if len(set(self.voices)) != len(self.voices):
            raise ConfigError(f"voices repeat: {','.join(self.voices)}")
        for value, name in ((self.tempo_jitter, "tempo_jitter"), (self.pitch_jitter, "pitch_jitter")):
            if not 0 <= value < 0.5:
                raise ConfigError(f"{name} must be in [0, 0.5), got {value}")
        if self.jobs < 1:
            raise ConfigError(f"jobs must be at least 1, got {self.jobs}")
        for spec in self.voices:
            voices.parse_voice(spec)


@dataclass
class MiniConfig(JitterConfig):
    """Options of the ``mini`` corpus (and :class:`JitterConfig`'s).

    Attributes:
        out: Corpus folder.
        train: ASR/ST training utterances (0 with ``dev`` and ``test`` 0 too: no ASR/ST part).
        dev: ASR/ST development utterances.
        test: ASR/ST test utterances.
        tts_train: TTS training utterances (all three TTS sizes 0: no TTS part).
        tts_dev: TTS development utterances.
        tts_test: TTS test utterances.
        tts_voice: The single TTS voice (no jitter).
        target_langs: num2words languages of the translations; the first goes in the top-level
            manifests, each other one in ``<lang>/``.
    """

    out: Path = Path("data/mini")
    train: int = 4000
    dev: int = 300
    test: int = 300
    tts_train: int = 1500
    tts_dev: int = 100
    tts_test: int = 100
    tts_voice: str = "slt"
    target_langs: tuple[str, ...] = ("fr", "de")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.out, self.target_langs = Path(self.out), tuple(self.target_langs)
        for sizes in ((self.train, self.dev, self.test), (self.tts_train, self.tts_dev, self.tts_test)):
            for split, size, limit in zip(SPLITS, sizes, MAX_SIZES, strict=True):
                if not 0 <= size <= limit:
                    raise ConfigError(f"{split} size must be in [0, {limit}], got {size}")
            if 0 in sizes and any(sizes):
                raise ConfigError(f"sizes {sizes}: give every split at least one utterance, or all 0")
        if not any((self.train, self.tts_train)):
            raise ConfigError("nothing to make: both the ASR/ST and the TTS sizes are 0")
        if len(set(self.target_langs)) != len(self.target_langs):
            raise ConfigError(f"target languages repeat: {','.join(self.target_langs)}")
        for lang in self.target_langs:
            check_language(lang)
        voices.parse_voice(self.tts_voice)


@dataclass
class DingConfig(JitterConfig):
    """Options of the ``ding`` corpus (and :class:`JitterConfig`'s; default voices: flite only).

    Attributes:
        out: Corpus folder.
        dictionary: The Ding dictionary file.
        max_pairs: Most sentence pairs used in all (``None``: all that pass the filter).
        dev: Development utterances.
        test: Test utterances.
        min_words: Fewest English words in a sentence.
        max_words: Most English words in a sentence.
    """

    voices: tuple[str, ...] = FLITE_ONLY
    out: Path = Path("data/ding")
    dictionary: Path = Path(sysdeps.DING_DICTIONARY)
    max_pairs: int | None = None
    dev: int = 500
    test: int = 500
    min_words: int = 3
    max_words: int = 20

    def __post_init__(self) -> None:
        super().__post_init__()
        self.out, self.dictionary = Path(self.out), Path(self.dictionary)
        if self.dev < 1 or self.test < 1:
            raise ConfigError(f"dev and test need at least one pair, got {self.dev} and {self.test}")
        if self.max_pairs is not None and self.max_pairs < self.dev + self.test + 1:
            raise ConfigError(f"max_pairs {self.max_pairs} leaves no training pairs after dev and test")
        if not 1 <= self.min_words <= self.max_words:
            raise ConfigError(f"need 1 <= min_words <= max_words, got {self.min_words}, {self.max_words}")


def prepare_mini(config: MiniConfig, progress: bool = True) -> CorpusSummary:
    """Make (or find up to date) the ``mini`` corpus; see the module docstring for the layout."""
    _check_out(config.out)
    current = up_to_date("mini", config.out, _options(config))
    if current is not None:
        return current
    voice_list = _ready_voices(config.voices + ((config.tts_voice,) if config.tts_train else ()), {})
    plan = plan_mini(config, voice_list)
    return build_corpus(plan, jobs=config.jobs, progress=progress)


def prepare_ding(config: DingConfig, progress: bool = True) -> CorpusSummary:
    """Make (or find up to date) the ``ding`` corpus; see the module docstring for the layout."""
    _check_out(config.out)
    current = up_to_date("ding", config.out, _options(config))
    if current is not None:
        return current
    extra = sysdeps.DING if config.dictionary == Path(sysdeps.DING_DICTIONARY) else {}
    voice_list = _ready_voices(config.voices, extra)
    plan = plan_ding(config, voice_list)
    return build_corpus(plan, jobs=config.jobs, progress=progress)


def _check_out(out: Path) -> None:
    """The corpus folder and its marker can be written (checked again per file once planned)."""
    check_output_dir(out, "corpus folder")
    check_output_file(out / DONE, "corpus file")


def _ready_voices(specs: tuple[str, ...], extra: dict[str, str]) -> dict[str, voices.Voice]:
    """Parse voice specs, install their engines' packages (and ``extra``) and check each voice."""
    parsed = {spec: voices.parse_voice(spec) for spec in specs}
    needed = dict(extra)
    for voice in parsed.values():
        needed.update(voice.package)
    sysdeps.ensure_debian_packages(needed)
    for voice in parsed.values():
        voices.check_voice(voice)
    return parsed


def _options(config: JitterConfig) -> dict[str, Any]:
    options = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("out", "jobs")}
    return {
        k: list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v
        for k, v in options.items()
    }


def _jittered_job(
    config: JitterConfig, voice_list: dict[str, voices.Voice], utt_id: str, text: str, audio: str
) -> Job:
    """A job whose voice, tempo and pitch are drawn from a generator seeded with (seed, id)."""
    rng = random.Random(f"{config.seed}:{utt_id}")
    spec = rng.choice(config.voices)
    tempo = round(rng.uniform(1 - config.tempo_jitter, 1 + config.tempo_jitter), 3)
    pitch = round(rng.uniform(1 - config.pitch_jitter, 1 + config.pitch_jitter), 3)
    return Job(utt_id, text, voice_list[spec], tempo, pitch, ASR_RATE, audio)


def _ids(prefix: str, split: str, items: list[Any]) -> list[tuple[str, Any]]:
    return [(f"{prefix}-{split}-{index:05d}", item) for index, item in enumerate(items)]


def plan_mini(config: MiniConfig, voice_list: dict[str, voices.Voice]) -> CorpusPlan:
    """Plan the ``mini`` corpus: numbers per split, a jittered voice per utterance, the manifests."""
    jobs: list[Job] = []
    manifests: list[ManifestPlan] = []
    if config.train:
        _plan_mini_asr(config, voice_list, jobs, manifests)
    if config.tts_train:
        _plan_mini_tts(config, voice_list[config.tts_voice], jobs, manifests)
    return CorpusPlan("mini", config.out, _options(config), tuple(jobs), tuple(manifests))


def _plan_mini_asr(
    config: MiniConfig, voice_list: dict[str, voices.Voice], jobs: list[Job], manifests: list[ManifestPlan]
) -> None:
    """Add the ASR/ST jobs (16 kHz, jittered) and one manifest per split and target language."""
    sizes = dict(zip(SPLITS, (config.train, config.dev, config.test), strict=True))
    numbers = sample_numbers(sizes, config.seed, "asr")
    drawn = {split: _ids("mini", split, numbers[split]) for split in SPLITS}
    for split in SPLITS:
        jobs += [
            _jittered_job(config, voice_list, utt_id, spoken(n, "en"), f"wavs/{split}/{utt_id}.wav")
            for utt_id, n in drawn[split]
        ]
    langs: tuple[str | None, ...] = config.target_langs or (None,)
    for index, lang in enumerate(langs):
        for split in SPLITS:
            entries = tuple(
                Entry(utt_id, spoken(n, lang) if lang else None, lang) for utt_id, n in drawn[split]
            )
            path = f"{lang}/{split}.jsonl" if index else f"{split}.jsonl"
            manifests.append(ManifestPlan(path, split, entries))


def _plan_mini_tts(
    config: MiniConfig, voice: voices.Voice, jobs: list[Job], manifests: list[ManifestPlan]
) -> None:
    """Add the TTS jobs (22.05 kHz, one voice, no jitter) and their manifests."""
    sizes = dict(zip(SPLITS, (config.tts_train, config.tts_dev, config.tts_test), strict=True))
    drawn = sample_numbers(sizes, config.seed, "tts")
    for split in SPLITS:
        audio = f"tts/wavs/{split}/{{}}.wav"
        split_jobs = [
            Job(utt_id, spoken(n, "en"), voice, 1.0, 1.0, TTS_RATE, audio.format(utt_id))
            for utt_id, n in _ids("mini-tts", split, drawn[split])
        ]
        jobs += split_jobs
        entries = tuple(Entry(job.id) for job in split_jobs)
        manifests.append(ManifestPlan(f"tts/{split}.jsonl", split, entries))


def plan_ding(config: DingConfig, voice_list: dict[str, voices.Voice]) -> CorpusPlan:
    """Plan the ``ding`` corpus: pairs per split (disjoint by English and German), voices, manifests."""
    pairs = ding.read_pairs(config.dictionary, config.min_words, config.max_words)
    total = len(pairs) if config.max_pairs is None else min(config.max_pairs, len(pairs))
    if total < config.dev + config.test + 1:
        raise ConfigError(
            f"{config.dictionary}: only {len(pairs)} clean pairs, too few for dev {config.dev} "
            f"and test {config.test}"
        )
    sizes = {"dev": config.dev, "test": config.test, "train": total - config.dev - config.test}
    chosen = ding.split_pairs(pairs, sizes, config.seed)
    jobs: list[Job] = []
    manifests: list[ManifestPlan] = []
    for split in SPLITS:
        split_jobs = [
            _jittered_job(config, voice_list, utt_id, pair.english, f"wavs/{split}/{utt_id}.wav")
            for utt_id, pair in _ids("ding", split, chosen[split])
        ]
        jobs += split_jobs
        entries = tuple(
            Entry(job.id, pair.german, "de") for job, pair in zip(split_jobs, chosen[split], strict=True)
        )
        manifests.append(ManifestPlan(f"{split}.jsonl", split, entries))
    return CorpusPlan("ding", config.out, _options(config), tuple(jobs), tuple(manifests))


def add_cli(corpora: argparse._SubParsersAction) -> None:
    """Register ``speech prepare mini`` and ``speech prepare ding``."""
    mini = corpora.add_parser(
        "mini", help="numbers corpus for ASR/ST/TTS, spoken by flite and espeak-ng", description=_MINI_HELP
    )
    _add_out_dir(mini, MiniConfig.out)
    for name, default in (
        ("train", 4000),
        ("dev", 300),
        ("test", 300),
        ("tts-train", 1500),
        ("tts-dev", 100),
        ("tts-test", 100),
    ):
        part, _, split = name.rpartition("-")
        mini.add_argument(
            f"--{name}",
            type=int,
            default=default,
            metavar="N",
            help=f"{(part or 'asr/st').upper()} {split} utterances (default: {default})",
        )
    mini.add_argument("--no-asr", action="store_true", help="skip the ASR/ST part")
    mini.add_argument("--no-tts", action="store_true", help="skip the TTS part")
    mini.add_argument("--tts-voice", default="slt", help="TTS voice (default: %(default)s)")
    mini.add_argument(
        "--langs",
        type=_csv,
        default=("fr", "de"),
        metavar="L1,L2",
        help="num2words translation languages; the first goes in OUT/*.jsonl (default: fr,de)",
    )
    _add_jitter_args(mini, DEFAULT_VOICES)
    mini.set_defaults(func=_run_mini)
    dg = corpora.add_parser(
        "ding",
        help="English-German sentences from the Ding dictionary, spoken by flite",
        description=_DING_HELP,
    )
    _add_out_dir(dg, DingConfig.out)
    dg.add_argument(
        "--dictionary",
        type=Path,
        default=Path(sysdeps.DING_DICTIONARY),
        help="Ding dictionary file (default: %(default)s)",
    )
    dg.add_argument(
        "--max-pairs",
        type=int,
        default=None,
        metavar="N",
        help="most sentence pairs in all (default: all that pass the filter)",
    )
    dg.add_argument("--dev", type=int, default=500, metavar="N", help="dev pairs (default: %(default)s)")
    dg.add_argument("--test", type=int, default=500, metavar="N", help="test pairs (default: %(default)s)")
    _add_jitter_args(dg, FLITE_ONLY)
    dg.set_defaults(func=_run_ding)


def _add_out_dir(parser: argparse.ArgumentParser, default: Path) -> None:
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


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _add_jitter_args(parser: argparse.ArgumentParser, default_voices: tuple[str, ...]) -> None:
    parser.add_argument(
        "--voices",
        type=_csv,
        default=default_voices,
        metavar="V1,V2",
        help=f"flite voices, espeak-ng lang+variant (default: {','.join(default_voices)})",
    )
    parser.add_argument(
        "--tempo-jitter",
        type=float,
        default=0.1,
        metavar="X",
        help="speaking rate drawn from 1±X (default: %(default)s)",
    )
    parser.add_argument(
        "--pitch-jitter",
        type=float,
        default=0.06,
        metavar="X",
        help="pitch drawn from 1±X (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add_jobs_option(parser, "processes synthesizing")
    add_output_options(parser)


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "voices": args.voices,
        "tempo_jitter": args.tempo_jitter,
        "pitch_jitter": args.pitch_jitter,
        "seed": args.seed,
        "jobs": args.jobs,
        "out": args.out,
    }


def _run_mini(args: argparse.Namespace) -> int:
    asr = (0, 0, 0) if args.no_asr else (args.train, args.dev, args.test)
    tts = (0, 0, 0) if args.no_tts else (args.tts_train, args.tts_dev, args.tts_test)
    config = MiniConfig(
        train=asr[0],
        dev=asr[1],
        test=asr[2],
        tts_train=tts[0],
        tts_dev=tts[1],
        tts_test=tts[2],
        tts_voice=args.tts_voice,
        target_langs=args.langs,
        **_common(args),
    )
    return print_summary(prepare_mini(config, progress=not args.quiet), args)


def _run_ding(args: argparse.Namespace) -> int:
    config = DingConfig(
        dictionary=args.dictionary, max_pairs=args.max_pairs, dev=args.dev, test=args.test, **_common(args)
    )
    return print_summary(prepare_ding(config, progress=not args.quiet), args)
