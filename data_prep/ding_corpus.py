"""The ``ding`` built-in corpus: English-German sentences from the Ding dictionary, synthesized.

The realistic tier, open vocabulary: clean English sentences of 3-20 words with their German
translations from the Ding dictionary (:mod:`data_prep.ding`, about 13,800 pairs). Splits are
disjoint by English and by German sentence (:func:`data_prep.ding.split_pairs`). Layout under
``--out-dir`` (default ``data/ding``)::

    wavs/{train,dev,test}/ding-<split>-NNNNN.wav   16 kHz, voices drawn per utterance, jittered
    wavs/test_unseen/ding-test_unseen-NNNNN.wav    the test sentences again, held-out voices
    {train,dev,test,test_unseen}.jsonl   ASR and ST: text (English), translation (German),
                                 target_lang de, speaker, lang
    tts/wavs/{split}/ding-tts-<split>-NNNNN.wav    22.05 kHz, one voice (flite slt), no jitter
    tts/{train,dev,test}.jsonl   TTS: text, speaker; each split's sentences are drawn (seeded) from
                                 the same split of the ASR/ST part, so TTS test sentences are unseen
                                 text for a model trained on either part's train split

Voices and jitter are as for ``mini`` (:mod:`data_prep.synthetic`,
:mod:`data_prep.synthetic_common`); the sentences are plain text, so espeak-ng and festival voices
read them as written. ``--no-asr`` makes the TTS part only (the ASR/ST manifests and audio are not
written), ``--no-tts`` the ASR/ST part only.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

from data_prep import ding, sysdeps, voices
from data_prep.builder import CorpusPlan, CorpusSummary, Entry, Job, ManifestPlan, build_corpus, up_to_date
from data_prep.cli import print_summary
from data_prep.synthetic_common import (
    SPLITS,
    UNSEEN,
    JitterConfig,
    add_jitter_args,
    add_out_dir,
    add_tts_args,
    check_out,
    ids,
    jitter_kwargs,
    jittered_jobs,
    options,
    ready_voices,
    tts_jobs,
)
from speech.errors import ConfigError

_DING_HELP = (
    "English sentences (3-20 words) with German translations from the Ding dictionary, spoken by "
    "flite and espeak-ng voices with tempo, pitch and prosody jitter: 16 kHz manifests "
    "OUT/{train,dev,test}.jsonl, OUT/test_unseen.jsonl (the test sentences spoken by held-out "
    "festival and espeak-ng voices), plus 22.05 kHz single-voice TTS manifests OUT/tts/*.jsonl "
    "whose sentences come from the same split."
)


@dataclass
class DingConfig(JitterConfig):
    """Options of the ``ding`` corpus (and :class:`~data_prep.synthetic_common.JitterConfig`'s).

    Attributes:
        out: Corpus folder.
        dictionary: The Ding dictionary file.
        max_pairs: Most sentence pairs used in all (``None``: all that pass the filter).
        dev: Development pairs.
        test: Test pairs (each also in ``test_unseen`` when there are unseen voices).
        min_words: Fewest English words in a sentence.
        max_words: Most English words in a sentence.
        asr: Make the ASR/ST part (``False``: the TTS part only).
        tts_train: TTS training utterances, drawn from the ASR/ST train split's sentences (all
            three TTS sizes 0: no TTS part; a split with fewer sentences gives them all).
        tts_dev: TTS development utterances, from the dev split's sentences.
        tts_test: TTS test utterances, from the test split's sentences.
        tts_voice: The single TTS voice (no jitter).
    """

    out: Path = Path("data/ding")
    dictionary: Path = Path(sysdeps.DING_DICTIONARY)
    max_pairs: int | None = None
    dev: int = 500
    test: int = 500
    min_words: int = 3
    max_words: int = 20
    asr: bool = True
    tts_train: int = 4000
    tts_dev: int = 100
    tts_test: int = 100
    tts_voice: str = "slt"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.out, self.dictionary = Path(self.out), Path(self.dictionary)
        if self.dev < 1 or self.test < 1:
            raise ConfigError(f"dev and test need at least one pair, got {self.dev} and {self.test}")
        if self.max_pairs is not None and self.max_pairs < self.dev + self.test + 1:
            raise ConfigError(f"max_pairs {self.max_pairs} leaves no training pairs after dev and test")
        if not 1 <= self.min_words <= self.max_words:
            raise ConfigError(f"need 1 <= min_words <= max_words, got {self.min_words}, {self.max_words}")
        tts = (self.tts_train, self.tts_dev, self.tts_test)
        if min(tts) < 0:
            raise ConfigError(f"TTS sizes must not be negative, got {tts}")
        if 0 in tts and any(tts):
            raise ConfigError(f"TTS sizes {tts}: give every split at least one utterance, or all 0")
        if not self.asr and not any(tts):
            raise ConfigError("nothing to make: no ASR/ST part and the TTS sizes are 0")
        voices.parse_voice(self.tts_voice)


def prepare_ding(config: DingConfig, progress: bool = True) -> CorpusSummary:
    """Make (or find up to date) the ``ding`` corpus; see the module docstring for the layout."""
    check_out(config.out)
    current = up_to_date("ding", config.out, options(config))
    if current is not None:
        return current
    extra = sysdeps.DING if config.dictionary == Path(sysdeps.DING_DICTIONARY) else {}
    specs = (config.voices + config.unseen_voices) if config.asr else ()
    voice_list = ready_voices(specs + ((config.tts_voice,) if config.tts_train else ()), extra)
    plan = plan_ding(config, voice_list)
    return build_corpus(plan, jobs=config.jobs, progress=progress)


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
    if config.asr:
        _plan_ding_asr(config, voice_list, chosen, jobs, manifests)
    if config.tts_train:
        _plan_ding_tts(config, voice_list[config.tts_voice], chosen, jobs, manifests)
    return CorpusPlan("ding", config.out, options(config), tuple(jobs), tuple(manifests))


def _plan_ding_asr(
    config: DingConfig,
    voice_list: dict[str, voices.Voice],
    chosen: dict[str, list[ding.SentencePair]],
    jobs: list[Job],
    manifests: list[ManifestPlan],
) -> None:
    """Add the ASR/ST jobs (16 kHz, jittered) and manifests, ``test_unseen`` included."""
    splits = SPLITS + ((UNSEEN,) if config.unseen_voices else ())
    for split in splits:
        pairs = chosen["test" if split == UNSEEN else split]
        drawn = ids("ding", split, pairs)
        items = [(utt_id, pair.english, f"wavs/{split}/{utt_id}.wav") for utt_id, pair in drawn]
        specs = config.unseen_voices if split == UNSEEN else config.voices
        jobs += jittered_jobs(config, voice_list, specs, items)
        entries = tuple(Entry(utt_id, pair.german, "de") for utt_id, pair in drawn)
        manifests.append(ManifestPlan(f"{split}.jsonl", split, entries))


def _plan_ding_tts(
    config: DingConfig,
    voice: voices.Voice,
    chosen: dict[str, list[ding.SentencePair]],
    jobs: list[Job],
    manifests: list[ManifestPlan],
) -> None:
    """Add the TTS jobs (22.05 kHz, one voice, no jitter): sentences drawn from each ASR/ST split."""
    sizes = dict(zip(SPLITS, (config.tts_train, config.tts_dev, config.tts_test), strict=True))
    for split in SPLITS:
        pairs = chosen[split]
        picked = random.Random(f"{config.seed}:ding-tts:{split}").sample(
            range(len(pairs)), min(sizes[split], len(pairs))
        )
        split_jobs = tts_jobs("ding-tts", split, [pairs[i].english for i in sorted(picked)], voice)
        jobs += split_jobs
        manifests.append(ManifestPlan(f"tts/{split}.jsonl", split, tuple(Entry(j.id) for j in split_jobs)))


def add_cli(corpora: argparse._SubParsersAction) -> None:
    """Register ``speech prepare ding``."""
    dg = corpora.add_parser(
        "ding",
        help="English-German sentences from the Ding dictionary for ASR/ST/TTS, spoken by flite and "
        "espeak-ng (held out: festival too)",
        description=_DING_HELP,
    )
    add_out_dir(dg, DingConfig.out)
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
    add_tts_args(dg, (4000, 100, 100))
    add_jitter_args(dg)
    dg.set_defaults(func=_run_ding)


def _run_ding(args: argparse.Namespace) -> int:
    tts = (0, 0, 0) if args.no_tts else (args.tts_train, args.tts_dev, args.tts_test)
    config = DingConfig(
        dictionary=args.dictionary,
        max_pairs=args.max_pairs,
        dev=args.dev,
        test=args.test,
        asr=not args.no_asr,
        tts_train=tts[0],
        tts_dev=tts[1],
        tts_test=tts[2],
        tts_voice=args.tts_voice,
        **jitter_kwargs(args),
    )
    return print_summary(prepare_ding(config, progress=not args.quiet), args)
