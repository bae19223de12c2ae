"""``speech score wer|bleu``: score hypothesis files against references."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speech.errors import SpeechError
from speech.io import atomic_write
from speech.metrics import error_rates, paired, translation_scores


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech score`` with its ``wer`` and ``bleu`` subcommands."""
    parser = sub.add_parser("score", help="score hypotheses against references (WER/CER, BLEU/chrF)")
    metrics = parser.add_subparsers(dest="metric", metavar="METRIC", parser_class=type(parser))
    metrics.required = True
    for name, helptext, func in (
        ("wer", "word and character error rates (jiwer)", score_wer),
        ("bleu", "BLEU and chrF (sacrebleu) and exact-match rate", score_bleu),
    ):
        p = metrics.add_parser(name, help=helptext, description=helptext + ". Files hold id<TAB>text lines.")
        p.add_argument("--ref", required=True, help="reference file of id<TAB>text lines")
        p.add_argument("--hyp", required=True, help="hypothesis file of id<TAB>text lines (same ids)")
        p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        p.set_defaults(func=func)
    report = metrics.add_parser("report", help="write RESULTS.md for an experiment's decode_* folders")
    report.add_argument("--exp-dir", required=True, help="experiment folder holding decode_<set>/ folders")
    report.add_argument(
        "--metric",
        dest="report_metric",  # "metric" already names the subcommand
        choices=["wer", "bleu"],
        default="wer",
        help="wer: WER and CER (ASR); bleu: BLEU, chrF and exact-match rate (ST)",
    )
    report.set_defaults(func=score_report)
    tts = metrics.add_parser(
        "tts",
        help="score synthesized speech against the reference recordings into RESULTS.md",
        description="Intelligibility (pocketsphinx WER, and our ASR model's WER with --asr-model), "
        "DTW mel-cepstral distortion, and the synthesis statistics, for the synthesized audio and, "
        "side by side, the reference recordings of the same texts.",
    )
    tts.add_argument("--synth-dir", required=True, help="folder written by speech synthesize --manifest")
    tts.add_argument("--reference", required=True, help="the manifest that was synthesized")
    tts.add_argument("--train", required=True, help="training manifest (pocketsphinx's language model)")
    tts.add_argument("--asr-model", help="ASR checkpoint to score the audio with too (skipped when missing)")
    tts.add_argument("--out", required=True, help="RESULTS.md to write")
    tts.set_defaults(func=score_tts)


def score_wer(args: argparse.Namespace) -> int:
    """Print WER and CER of ``args.hyp`` against ``args.ref``."""
    _, refs, hyps = paired(args.ref, args.hyp)
    try:
        rates = error_rates(refs, hyps)
    except ValueError as e:
        raise SpeechError(f"{args.ref}: {e}") from None
    if args.json:
        print(json.dumps(rates._asdict()))
    else:
        print(f"WER {100 * rates.wer:.2f}% ({rates.word_errors}/{rates.words} words)")
        print(f"CER {100 * rates.cer:.2f}% ({rates.char_errors}/{rates.chars} characters)")
        print(f"sentences {rates.sentences}")
    return 0


def score_bleu(args: argparse.Namespace) -> int:
    """Print corpus BLEU, chrF and exact-match rate of ``args.hyp`` against ``args.ref``."""
    _, refs, hyps = paired(args.ref, args.hyp)
    scores = translation_scores(refs, hyps)
    if args.json:
        print(json.dumps(scores._asdict()))
    else:
        print(f"BLEU {scores.bleu:.2f}  ({scores.bleu_signature})")
        print(f"chrF {scores.chrf:.2f}")
        print(f"exact match {100 * scores.exact_match:.2f}% of {scores.sentences} sentences")
    return 0


def score_report(args: argparse.Namespace) -> int:
    """Score every ``decode_<set>/{ref,hyp}.txt`` of an experiment into ``RESULTS.md``."""
    exp = Path(args.exp_dir)
    sets = sorted(d for d in exp.glob("decode_*") if (d / "hyp.txt").is_file())
    if not sets:
        raise SpeechError(f"{exp}: no decode_*/hyp.txt to score")
    rows = []
    for folder in sets:
        _, refs, hyps = paired(folder / "ref.txt", folder / "hyp.txt")
        rates = translation_scores(refs, hyps) if args.report_metric == "bleu" else error_rates(refs, hyps)
        stats_file = folder / "hyp.stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {}
        rows.append((folder.name.removeprefix("decode_"), rates, stats))
    lines = ["# Results", "", f"Experiment: `{exp}`", "", *_table(args.report_metric, rows)]
    if args.report_metric == "bleu":
        lines += ["", f"BLEU signature: `{rows[0][1].bleu_signature}`"]
    text = "\n".join(lines) + "\n"
    with atomic_write(exp / "RESULTS.md") as f:
        f.write(text)
    print(text, end="")
    return 0


def _table(metric: str, rows: list) -> list[str]:
    """Markdown table lines: one row per decoded set with its scores and decoding statistics."""
    columns = ["WER %", "CER %"] if metric == "wer" else ["BLEU", "chrF", "exact match %"]
    lines = [
        f"| set | utterances | {' | '.join(columns)} | beam | RTF (decode s / audio s) | threads |",
        "| --- | ---: |" + " ---: |" * len(columns) + " ---: | ---: | ---: |",
    ]
    for name, scores, stats in rows:
        if metric == "wer":
            values = [100 * scores.wer, 100 * scores.cer]
        else:
            values = [scores.bleu, scores.chrf, 100 * scores.exact_match]
        rtf = f"{stats['rtf']:.4f}" if "rtf" in stats else "-"
        cells = [str(scores.sentences), *(f"{v:.2f}" for v in values), str(stats.get("beam", "-")), rtf]
        lines.append(f"| {name} | {' | '.join(cells)} | {stats.get('threads', '-')} |")
    return lines


def score_tts(args: argparse.Namespace) -> int:
    """Score synthesized speech and the reference recordings into ``args.out``."""
    from speech.metrics.tts import read_stats, score_tts, tts_results_markdown

    synth_dir = Path(args.synth_dir)
    asr_model = args.asr_model if args.asr_model and Path(args.asr_model).is_file() else None
    scores = score_tts(synth_dir / "synth.jsonl", args.reference, args.train, asr_model)
    text = tts_results_markdown(
        scores, read_stats(synth_dir / "synth.stats.json"), synth_dir.parent, asr_model
    )
    with atomic_write(Path(args.out)) as f:
        f.write(text)
    print(text)
    return 0
