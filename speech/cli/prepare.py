"""``speech prepare``: corpora (built-in and real) and the assets a recipe's stage 1 makes."""

from __future__ import annotations

import argparse
import json

from speech.cli._args import add_output_options, positive_int
from speech.errors import SpeechError
from speech.io import check_output_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech prepare`` with its corpus and asset subcommands."""
    from data_prep import corpora, synthetic

    parser = sub.add_parser("prepare", help="prepare corpora, tokenizers and feature statistics")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", parser_class=type(parser))
    targets.required = True
    synthetic.add_cli(targets)
    corpora.add_cli(targets)

    tok = targets.add_parser("tokenizer", help="train a tokenizer on a manifest's text")
    tok.add_argument("--manifest", required=True, help="training manifest")
    tok.add_argument("--out", required=True, help="tokenizer file to write (JSON)")
    tok.add_argument("--kind", choices=["char", "sentencepiece"], default="char", help="tokenizer type")
    tok.add_argument("--field", choices=["text", "translation"], default="text", help="manifest field")
    tok.add_argument("--vocab-size", type=positive_int, default=1000, help="SentencePiece vocabulary size")
    tok.add_argument("--lang", default=None, help="normalise text for this language first (en, fr, de)")
    tok.add_argument(
        "--phonemes",
        action="store_true",
        help="TTS: symbols are espeak-ng IPA phonemes of the text (needs --lang)",
    )
    tok.add_argument(
        "--phoneme-lang", default=None, help="espeak-ng voice for --phonemes (default: from --lang)"
    )
    add_output_options(tok, json_help="print the result as one JSON object")
    tok.set_defaults(func=run_tokenizer)

    cmvn = targets.add_parser("cmvn", help="global mean/variance statistics of log-mel features")
    cmvn.add_argument("--manifest", required=True, help="training manifest")
    cmvn.add_argument("--out", required=True, help="statistics file to write (JSON)")
    cmvn.add_argument("--preset", choices=["asr", "tts"], default="asr", help="log-mel preset")
    cmvn.add_argument(
        "--max-utterances", type=positive_int, default=None, help="use at most this many utterances"
    )
    add_output_options(cmvn, json_help="print the result as one JSON object")
    cmvn.set_defaults(func=run_cmvn)

    shard = targets.add_parser("shard", help="write a manifest's utterances into tar shards for training")
    shard.add_argument("--manifest", required=True, help="manifest to shard (JSONL)")
    shard.add_argument("--out-dir", required=True, help="shard folder to write (missing or empty)")
    shard.add_argument("--shard-size", type=positive_int, default=1000, help="utterances per shard at most")
    shard.add_argument(
        "--max-shard-bytes", type=positive_int, default=None, help="also start a new shard before this size"
    )
    shard.add_argument("--force", action="store_true", help="replace an existing shard folder")
    add_output_options(shard, json_help="print the result as one JSON object")
    shard.set_defaults(func=run_shard)


def run_tokenizer(args: argparse.Namespace) -> int:
    """Train and save a tokenizer."""
    from speech.text import TextNormalizer, train_tokenizer_from_manifest

    check_output_file(args.out, "tokenizer file", inputs=(args.manifest,))
    normalizer = TextNormalizer(args.lang) if args.lang else None
    phonemizer = None
    if args.phonemes:
        from speech.text.frontend import TextFrontEnd, TextFrontEndConfig

        if not args.lang:
            raise SpeechError("--phonemes needs --lang (the text is normalised before phonemising)")
        phonemizer = TextFrontEnd(
            TextFrontEndConfig(args.lang, phonemes=True, phoneme_lang=args.phoneme_lang)
        ).phonemizer
    tok = train_tokenizer_from_manifest(
        args.manifest,
        kind=args.kind,
        field=args.field,
        vocab_size=args.vocab_size,
        normalizer=normalizer,
        output=args.out,
        phonemizer=phonemizer,
    )
    if args.json:
        print(json.dumps({"out": str(args.out), "kind": args.kind, "vocab_size": tok.vocab_size}))
    else:
        print(f"{args.out}: {args.kind} tokenizer, {tok.vocab_size} symbols")
    return 0


def run_cmvn(args: argparse.Namespace) -> int:
    """Compute and save CMVN statistics (a progress bar on a terminal unless ``--quiet``)."""
    from tqdm import tqdm

    from speech.data import read_manifest
    from speech.features import LogMel, LogMelConfig, compute_cmvn_stats

    check_output_file(args.out, "statistics file", inputs=(args.manifest,))
    utterances = read_manifest(args.manifest)[: args.max_utterances]
    config = LogMelConfig.asr() if args.preset == "asr" else LogMelConfig.tts()
    bar = tqdm(utterances, desc="cmvn", unit="utt", disable=True if args.quiet else None, dynamic_ncols=True)
    with bar:
        stats = compute_cmvn_stats(bar, LogMel(config))
    stats.save(args.out)
    if args.json:
        print(json.dumps({"out": str(args.out), "frames": stats.count, "n_mels": stats.mean.numel()}))
    else:
        print(f"{args.out}: statistics of {stats.count} frames")
    return 0


def run_shard(args: argparse.Namespace) -> int:
    """Write tar shards, ``shards.json`` and ``utterances.jsonl`` (see :mod:`speech.data.shards`)."""
    from speech.data import write_shards

    summary = write_shards(args.manifest, args.out_dir, args.shard_size, args.max_shard_bytes, args.force)
    if args.json:
        print(
            json.dumps(
                {
                    "out_dir": str(args.out_dir),
                    "shards": len(summary.shards),
                    "utterances": summary.utterances,
                    "duration": summary.duration,
                }
            )
        )
    else:
        hours = summary.duration / 3600
        print(
            f"{args.out_dir}: {summary.utterances} utterances ({hours:.2f} h) in {len(summary.shards)} shards"
        )
    return 0
