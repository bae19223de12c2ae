"""Built-in corpora spoken by real synthesizers: ``speech prepare mini`` and ``speech prepare ding``.

**mini** (the embedded default; small vocabulary, trains in minutes on a CPU). Text: English
cardinal numbers (:func:`data_prep.numbers.sample_numbers`: 0-999,999, digit count drawn
uniformly so short and long numbers both occur), written ``num2words(n, lang="en")``, e.g.
``"one hundred and twenty-three thousand, four hundred and fifty-six"``; translations are
``num2words(n, lang=L)`` for each target language (default French, German). Splits are disjoint
by number. Layout under ``--out-dir`` (default ``data/mini``)::

    wavs/{train,dev,test}/mini-<split>-NNNNN.wav   16 kHz, voices drawn per utterance, jittered
    wavs/test_unseen/mini-test_unseen-NNNNN.wav    the test numbers again, spoken by held-out voices
    {train,dev,test,test_unseen}.jsonl   ASR, and ST into the first target language (fr): text,
                                 translation, target_lang, speaker, lang
    de/{train,dev,test,test_unseen}.jsonl   the same utterances with the German translation (one
                                 folder per further target language; audio paths ``../wavs/...``)
    tts/wavs/{split}/*.wav       22.05 kHz, one voice (flite slt), no jitter
    tts/{train,dev,test}.jsonl   TTS: text, speaker (numbers drawn apart from the ASR part's, but
                                 a number is in the same split in both parts)

**ding** (the realistic tier, open vocabulary; :mod:`data_prep.ding_corpus`): clean English
sentences of 3-20 words with their German translations from the Ding dictionary, the same layout
with ``text`` (English), ``translation`` (German), ``target_lang`` ``de``, plus a TTS part whose
sentences come from the same split of the ASR/ST part.

Voices: train, dev and test are spoken by ``--voices`` (default
:data:`data_prep.voice_sets.TRAIN_VOICES`: the four flite voices and 60 espeak-ng accent+variant
voices; an engine is drawn first, then a voice of it); ``test_unseen`` only by
``--unseen-voices`` (default :data:`data_prep.voice_sets.UNSEEN_VOICES`: festival's
``ked_diphone`` and espeak-ng accents and variants absent from training), so quality can be
reported on voices the model has not heard; ``--unseen-voices ''`` makes no such split.

Every utterance's voice, tempo, pitch and prosody come from a random generator seeded with
``(seed, utterance id)`` (:mod:`data_prep.synthetic_common`), so the output depends on the
options only, not on the worker count. Utterances whose audio may not say exactly the text
(:func:`data_prep.voices.spoken_mismatch`) are dropped and counted. Completion markers, resume and
parallelism: :mod:`data_prep.builder`. The options hashed into the marker are all the config
fields except ``out`` and ``jobs``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from data_prep import ding_corpus, voices
from data_prep.builder import CorpusPlan, CorpusSummary, Entry, Job, ManifestPlan, build_corpus, up_to_date
from data_prep.cli import print_summary
from data_prep.ding_corpus import DingConfig, plan_ding, prepare_ding
from data_prep.numbers import MAX_SIZES, check_language, sample_numbers, spoken
from data_prep.synthetic_common import (
    SPLITS,
    UNSEEN,
    JitterConfig,
    add_jitter_args,
    add_out_dir,
    add_tts_args,
    check_out,
    csv,
    ids,
    jitter_kwargs,
    jittered_jobs,
    options,
    ready_voices,
    tts_jobs,
)
from data_prep.voice_sets import TRAIN_VOICES, UNSEEN_VOICES
from speech.errors import ConfigError

__all__ = [
    "DingConfig",
    "MiniConfig",
    "TRAIN_VOICES",
    "UNSEEN_VOICES",
    "add_cli",
    "plan_ding",
    "plan_mini",
    "prepare_ding",
    "prepare_mini",
]

_MINI_HELP = (
    "English cardinal numbers (num2words) spoken by flite and espeak-ng voices with tempo, pitch "
    "and prosody jitter: 16 kHz ASR/ST manifests OUT/{train,dev,test}.jsonl (French translation) "
    "and OUT/de/*.jsonl (German), OUT/test_unseen.jsonl (the test numbers spoken by held-out "
    "festival and espeak-ng voices), plus 22.05 kHz single-voice TTS manifests OUT/tts/*.jsonl."
)


@dataclass
class MiniConfig(JitterConfig):
    """Options of the ``mini`` corpus (and :class:`~data_prep.synthetic_common.JitterConfig`'s).

    Attributes:
        out: Corpus folder.
        train: ASR/ST training utterances (0 with ``dev`` and ``test`` 0 too: no ASR/ST part).
        dev: ASR/ST development utterances.
        test: ASR/ST test utterances (each also in ``test_unseen`` when there are unseen voices).
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


def prepare_mini(config: MiniConfig, progress: bool = True) -> CorpusSummary:
    """Make (or find up to date) the ``mini`` corpus; see the module docstring for the layout."""
    check_out(config.out)
    current = up_to_date("mini", config.out, options(config))
    if current is not None:
        return current
    specs = (config.voices + config.unseen_voices) if config.train else ()
    voice_list = ready_voices(specs + ((config.tts_voice,) if config.tts_train else ()), {})
    plan = plan_mini(config, voice_list)
    return build_corpus(plan, jobs=config.jobs, progress=progress)


def plan_mini(config: MiniConfig, voice_list: dict[str, voices.Voice]) -> CorpusPlan:
    """Plan the ``mini`` corpus: numbers per split, a jittered voice per utterance, the manifests."""
    jobs: list[Job] = []
    manifests: list[ManifestPlan] = []
    if config.train:
        _plan_mini_asr(config, voice_list, jobs, manifests)
    if config.tts_train:
        _plan_mini_tts(config, voice_list[config.tts_voice], jobs, manifests)
    return CorpusPlan("mini", config.out, options(config), tuple(jobs), tuple(manifests))


def _plan_mini_asr(
    config: MiniConfig, voice_list: dict[str, voices.Voice], jobs: list[Job], manifests: list[ManifestPlan]
) -> None:
    """Add the ASR/ST jobs (16 kHz, jittered) and one manifest per split and target language."""
    sizes = dict(zip(SPLITS, (config.train, config.dev, config.test), strict=True))
    numbers = sample_numbers(sizes, config.seed, "asr")
    drawn = {split: ids("mini", split, numbers[split]) for split in SPLITS}
    splits = SPLITS
    if config.unseen_voices:
        drawn[UNSEEN], splits = ids("mini", UNSEEN, numbers["test"]), SPLITS + (UNSEEN,)
    for split in splits:
        specs = config.unseen_voices if split == UNSEEN else config.voices
        items = [(utt_id, spoken(n, "en"), f"wavs/{split}/{utt_id}.wav") for utt_id, n in drawn[split]]
        jobs += jittered_jobs(config, voice_list, specs, items)
    langs: tuple[str | None, ...] = config.target_langs or (None,)
    for index, lang in enumerate(langs):
        for split in splits:
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
        split_jobs = tts_jobs("mini-tts", split, [spoken(n, "en") for n in drawn[split]], voice)
        jobs += split_jobs
        entries = tuple(Entry(job.id) for job in split_jobs)
        manifests.append(ManifestPlan(f"tts/{split}.jsonl", split, entries))


def add_cli(corpora: argparse._SubParsersAction) -> None:
    """Register ``speech prepare mini`` and ``speech prepare ding``."""
    mini = corpora.add_parser(
        "mini",
        help="numbers corpus for ASR/ST/TTS, spoken by flite and espeak-ng (held out: festival too)",
        description=_MINI_HELP,
    )
    add_out_dir(mini, MiniConfig.out)
    for split, default in zip(SPLITS, (4000, 300, 300), strict=True):
        mini.add_argument(
            f"--{split}",
            type=int,
            default=default,
            metavar="N",
            help=f"ASR/ST {split} utterances (default: {default})",
        )
    add_tts_args(mini, (1500, 100, 100))
    mini.add_argument(
        "--langs",
        type=csv,
        default=("fr", "de"),
        metavar="L1,L2",
        help="num2words translation languages; the first goes in OUT/*.jsonl (default: fr,de)",
    )
    add_jitter_args(mini)
    mini.set_defaults(func=_run_mini)
    ding_corpus.add_cli(corpora)


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
        **jitter_kwargs(args),
    )
    return print_summary(prepare_mini(config, progress=not args.quiet), args)
