"""``speech score wer|bleu|report|tts|asr-peer``: score hypotheses against references.

``--ref``/``--hyp`` files hold ``id<TAB>text`` lines; either (not both) may be ``-`` for standard
input. ``report`` and ``tts`` write a RESULTS.md (``--out -`` prints it instead) and check that it
can be written before scoring anything, then echo it on standard output. ``asr-peer`` runs the
peer recognizer (pocketsphinx's general US-English model) on a manifest and writes a decode
folder that ``report`` reads like ours. ``--json`` prints the figures as one JSON object
instead; ``--quiet`` keeps standard error free of progress and notes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from speech.cli._args import add_output_options, positive_int
from speech.errors import SpeechError
from speech.io import atomic_write, check_output_dir, check_output_file
from speech.metrics import error_rates, paired, translation_scores
from speech.metrics.intelligibility import JUDGE_LMS
from speech.metrics.stats import DECODE_STATS, read_stats

STDOUT = "-"
PEER_OUTPUTS = ("ref.txt", "hyp.txt", "hyp.stats.json", "wer.json")
"""Files ``speech score asr-peer`` writes into its ``--out`` folder."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech score`` and its subcommands (``wer bleu report tts asr-peer``)."""
    parser = sub.add_parser("score", help="score hypotheses against references (WER/CER, BLEU/chrF)")
    metrics = parser.add_subparsers(dest="metric", metavar="METRIC", parser_class=type(parser))
    metrics.required = True
    for name, helptext, func in (
        ("wer", "word and character error rates (jiwer)", score_wer),
        ("bleu", "BLEU and chrF (sacrebleu) and exact-match rate", score_bleu),
    ):
        p = metrics.add_parser(
            name,
            help=helptext,
            description=helptext + ". Files hold id<TAB>text lines; either one may be - (standard input).",
        )
        p.add_argument("--ref", required=True, help="reference file of id<TAB>text lines (- reads stdin)")
        p.add_argument(
            "--hyp", required=True, help="hypothesis file of id<TAB>text lines, same ids (- reads stdin)"
        )
        add_output_options(p, json_help="print one JSON object instead of text")
        p.set_defaults(func=func)
    _add_report_parser(metrics)
    _add_tts_parser(metrics)
    _add_peer_parser(metrics)


def _add_report_parser(metrics: argparse._SubParsersAction) -> None:
    report = metrics.add_parser("report", help="write RESULTS.md for an experiment's decode_* folders")
    report.add_argument("--exp-dir", required=True, help="experiment folder holding decode_<set>/ folders")
    report.add_argument(
        "--metric",
        dest="report_metric",  # "metric" already names the subcommand
        choices=["wer", "bleu"],
        default="wer",
        help="wer: WER and CER (ASR); bleu: BLEU, chrF and exact-match rate (ST)",
    )
    report.add_argument(
        "--out", default=None, help="report to write (default: EXP_DIR/RESULTS.md; - prints it instead)"
    )
    report.add_argument(
        "--normalize",
        action="store_true",
        help="wer: score lower-case words without punctuation, numbers spelled out, hyphens as spaces "
        "(as the asr-peer folders are), so that case and punctuation are not errors",
    )
    add_output_options(report, json_help="print the scores as one JSON object instead of the report")
    report.set_defaults(func=score_report)


def _add_tts_parser(metrics: argparse._SubParsersAction) -> None:
    tts = metrics.add_parser(
        "tts",
        help="score synthesized speech against the reference recordings into RESULTS.md",
        description="Intelligibility (pocketsphinx WER, and our ASR model's WER with --asr-model), "
        "DTW mel-cepstral distortion, DNSMOS naturalness, and the synthesis statistics, for the "
        "synthesized audio and, side by side, the reference recordings of the same texts. With "
        "--copy-synthesis or --vocoder, also for copy-synthesis of the recordings (their own log-mels "
        "turned back into audio, no TTS model involved, which isolates the vocoder), with STOI and "
        "wide-band PESQ against the recordings.",
    )
    tts.add_argument(
        "--synth-dir",
        required=True,
        action="append",
        help="folder written by speech synthesize --manifest; repeat it to compare sets of the same "
        "texts side by side (e.g. Griffin-Lim and a neural vocoder), each named by its vocoder",
    )
    # --ref is checked in score_tts, so that the old spelling --reference (hidden) can stand in for it
    tts.add_argument("--ref", help="the manifest that was synthesized (its recordings); required")
    tts.add_argument("--reference", dest="ref", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    tts.add_argument(
        "--train",
        help="training manifest (the texts of pocketsphinx's task LM); required with --judge-lm task",
    )
    tts.add_argument(
        "--judge-lm",
        choices=JUDGE_LMS,
        default="task",
        help="pocketsphinx's language model: task = a trigram LM of the --train texts (the default, as "
        "recipes report it), general = pocketsphinx's own US-English LM and the whole CMU dictionary "
        "(stricter, the same for every corpus)",
    )
    tts.add_argument("--asr-model", help="ASR checkpoint to score the audio with too (skipped when missing)")
    tts.add_argument(
        "--copy-synthesis",
        action="store_true",
        help="also score Griffin-Lim copy-synthesis of the recordings (32 iterations, phases seeded "
        "with 0) on the --vocoder's mel features, or the Tacotron2 preset's (22.05 kHz, 80 mels) "
        "without one; recordings at another rate are resampled",
    )
    tts.add_argument(
        "--vocoder",
        metavar="CKPT",
        help="also score copy-synthesis of the recordings through this neural vocoder (speech train "
        "vocoder), beside Griffin-Lim's on the same mel features (implies --copy-synthesis)",
    )
    tts.add_argument("--out", required=True, help="RESULTS.md to write (- prints it instead)")
    add_output_options(tts, json_help="print the scores as one JSON object instead of the report")
    tts.set_defaults(func=score_tts)


def _add_peer_parser(metrics: argparse._SubParsersAction) -> None:
    peer = metrics.add_parser(
        "asr-peer",
        help="transcribe a manifest with pocketsphinx's general English model (the peer system) and score it",
        description="Run CMU PocketSphinx with its shipped US-English acoustic model, general trigram "
        "LM and CMU dictionary on a manifest's audio (resampled to 16 kHz), and score it against the "
        "manifest's texts. Writes OUT/ref.txt and OUT/hyp.txt (id<TAB>text lines, both normalised "
        "as scored: lower case, numbers as words, no punctuation), OUT/hyp.stats.json (utterances, "
        "audio and decoding seconds, RTF, threads) and OUT/wer.json, then prints WER and CER. Named "
        "EXP/decode_<name>, the folder is a row of `speech score report --exp-dir EXP`.",
    )
    peer.add_argument("--manifest", required=True, help="manifest whose audio and texts are scored")
    peer.add_argument("--out", required=True, help="output folder (e.g. EXP/decode_test_pocketsphinx)")
    peer.add_argument("--limit", type=positive_int, help="only the first N utterances of the manifest")
    peer.add_argument(
        "--lm-texts",
        metavar="MANIFEST",
        help="use a task trigram LM built from this manifest's texts instead of the general LM "
        "(a domain-tuned peer, e.g. a numbers LM for the mini corpus)",
    )
    add_output_options(peer, json_help="print the scores as one JSON object")
    peer.set_defaults(func=score_asr_peer)


def score_wer(args: argparse.Namespace) -> int:
    """Print WER and CER of ``args.hyp`` against ``args.ref``."""
    _, refs, hyps = paired(args.ref, args.hyp)
    try:
        rates = error_rates(refs, hyps)
    except ValueError as e:
        raise SpeechError(f"{_name(args.ref)}: {e}") from None
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
    try:
        scores = translation_scores(refs, hyps)
    except ValueError as e:
        raise SpeechError(f"{_name(args.ref)}: {e}") from None
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
    if not exp.is_dir():
        raise SpeechError(f"{exp}: {'not a folder' if exp.exists() else 'no such folder'} (--exp-dir)")
    decoded = tuple(p for p in exp.glob("decode_*/*") if p.is_file())
    out = _check_out(args, args.out if args.out is not None else exp / "RESULTS.md", decoded)
    sets = sorted(d for d in exp.glob("decode_*") if (d / "hyp.txt").is_file())
    if not sets:
        raise SpeechError(f"{exp}: no decode_*/hyp.txt to score")
    rows = [_score_set(folder, args.report_metric, args.normalize) for folder in sets]
    training = _training(exp / "model.ckpt")
    lines = ["# Results", "", f"Experiment: `{exp}`", "", *_training_lines(training)]
    lines += _table(args.report_metric, rows)
    if args.report_metric == "bleu":
        lines += ["", f"BLEU signature: `{rows[0][1].bleu_signature}`"]
    elif args.normalize:
        lines += ["", "Texts scored lower case, without punctuation, numbers spelled out (`--normalize`)."]
    figures = {
        "exp_dir": str(exp),
        "metric": args.report_metric,
        "normalized": bool(args.normalize and args.report_metric == "wer"),
        "training": training,
        "sets": [{"set": name, **scores._asdict(), **stats} for name, scores, stats in rows],
    }
    _emit(args, out, "\n".join(lines) + "\n", figures)
    return 0


def _score_set(folder: Path, metric: str, normalize: bool) -> tuple[str, tuple, dict]:
    """One report row: the set's name, its scores and its decoding statistics."""
    _, refs, hyps = paired(folder / "ref.txt", folder / "hyp.txt")
    if normalize and metric == "wer":
        from speech.metrics.intelligibility import normalize_for_wer

        refs, hyps = [normalize_for_wer(t) for t in refs], [normalize_for_wer(t) for t in hyps]
    try:
        scores = translation_scores(refs, hyps) if metric == "bleu" else error_rates(refs, hyps)
    except ValueError as e:
        raise SpeechError(f"{folder / 'ref.txt'}: {e}") from None
    return folder.name.removeprefix("decode_"), scores, read_stats(folder / "hyp.stats.json", DECODE_STATS)


def _training(model: Path) -> dict | None:
    """How training ended, from the experiment's ``model.ckpt`` (None without one, or for an old one)."""
    from speech.checkpoint import load_checkpoint, training_summary

    if not model.is_file():
        return None
    return training_summary(load_checkpoint(model))


def _training_lines(training: dict | None) -> list[str]:
    """The report's training line, and a loud warning when the time cap ended training."""
    from speech.checkpoint import time_cap_warning

    if training is None:
        return []
    lines = [
        f"Training: {training['global_step']} steps ({training['epochs']} full epochs), "
        f"stopped by {training['stopped_by']}.",
        "",
    ]
    warning = time_cap_warning(training)
    if warning is not None:
        lines += [f"**Warning: {warning}.**", ""]
    return lines


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
    """Score synthesized speech, copy-synthesis and the reference recordings into ``args.out``."""
    from speech.metrics.tts import copy_synthesizers, score_tts, synth_keys, synth_label, tts_results_markdown
    from speech.metrics.tts import read_stats as read_synth_stats

    if args.ref is None:
        raise SpeechError("the following arguments are required: --ref")
    if args.train is None and args.judge_lm == "task":
        raise SpeechError("the following arguments are required: --train (with --judge-lm task)")
    synth_dirs = [Path(d) for d in args.synth_dir]
    for synth_dir in synth_dirs:
        if not synth_dir.is_dir():
            raise SpeechError(f"{synth_dir}: {'not a folder' if synth_dir.exists() else 'no such folder'}")
    inputs = (args.ref, args.train, args.asr_model, args.vocoder, *(d / "synth.jsonl" for d in synth_dirs))
    out = _check_out(args, args.out, (*inputs, *(d / "synth.stats.json" for d in synth_dirs)))
    # corrupt statistics fail before the slow part; so does a bad vocoder
    stats = [read_synth_stats(d / "synth.stats.json") for d in synth_dirs]
    copies = copy_synthesizers(args.copy_synthesis, args.vocoder)
    labels = {c.key: c.label for c in copies}
    if len(synth_dirs) > 1:
        labels |= {k: synth_label(s) for k, s in zip(synth_keys(len(stats)), stats, strict=True)}
    asr_model = args.asr_model if args.asr_model and Path(args.asr_model).is_file() else None
    manifests = [d / "synth.jsonl" for d in synth_dirs]
    scores = score_tts(manifests, args.ref, args.train, asr_model, args.judge_lm, copies)
    text = tts_results_markdown(scores, stats, synth_dirs[0].parent, asr_model, args.judge_lm, labels)
    figures = {
        "synth_dir": str(synth_dirs[0]),
        "synth_dirs": [str(d) for d in synth_dirs],
        "judge_lm": args.judge_lm,
        "vocoder": args.vocoder,
        **{k: {"label": labels.get(k, k), **v._asdict()} for k, v in scores.items()},
        "stats": stats[0],
        "all_stats": stats,
    }
    _emit(args, out, text, figures)
    return 0


def score_asr_peer(args: argparse.Namespace) -> int:
    """Transcribe ``args.manifest`` with pocketsphinx's general model; write a decode folder; print WER."""
    from speech.cli._decode import one_line, progress_bar
    from speech.data import read_manifest
    from speech.metrics.peer import peer_utterances, score_peer

    utterances = peer_utterances(args.manifest, args.limit)
    lm_texts = [u.text for u in read_manifest(args.lm_texts) if u.text] if args.lm_texts else []
    if args.lm_texts and not lm_texts:
        raise SpeechError(f"{args.lm_texts}: no texts for the language model (--lm-texts)")
    out = check_output_dir(args.out)
    paths = {name: out / name for name in PEER_OUTPUTS}
    for name, path in paths.items():
        check_output_file(path, name, inputs=(args.manifest, args.lm_texts or args.manifest))
    with progress_bar(len(utterances), args.quiet) as bar:
        result = score_peer(utterances, bar.update, lm_texts)
    for name, texts in (("ref.txt", result.references), ("hyp.txt", result.hypotheses)):
        with atomic_write(paths[name]) as f:
            f.writelines(f"{i}\t{one_line(t)}\n" for i, t in zip(result.ids, texts, strict=True))
    with atomic_write(paths["hyp.stats.json"]) as f:
        json.dump(result.stats, f)
    lm = "general" if not lm_texts else f"task ({len(lm_texts)} texts of {args.lm_texts})"
    figures = {**result.rates._asdict(), "lm": lm}
    with atomic_write(paths["wer.json"]) as f:
        json.dump(figures, f)
    if args.json:
        print(json.dumps({"out": str(out), **figures, **result.stats}))
        return 0
    rates = result.rates
    print(f"WER {100 * rates.wer:.2f}% ({rates.word_errors}/{rates.words} words)")
    print(f"CER {100 * rates.cer:.2f}% ({rates.char_errors}/{rates.chars} characters)")
    print(f"sentences {rates.sentences}, RTF {result.stats['rtf']:.4f} (pocketsphinx, {lm} LM, 1 thread)")
    return 0


def _check_out(args: argparse.Namespace, out: str | Path, inputs: tuple = ()) -> Path | None:
    """The report file (checked writable before any work), or None for ``-`` (standard output)."""
    if str(out) == STDOUT:
        if args.json:
            raise SpeechError("--json and --out - both print to standard output; choose one")
        return None
    return check_output_file(out, "report", inputs=inputs)


def _emit(args: argparse.Namespace, out: Path | None, text: str, figures: dict) -> None:
    """Write the report (or only print it, for ``--out -``); print the JSON figures or the report."""
    if out is None:
        sys.stdout.write(text)
        return
    with atomic_write(out) as f:
        f.write(text)
    if args.json:
        print(json.dumps({"out": str(out), **figures}))
    else:
        sys.stdout.write(text)


def _name(path: str) -> str:
    return "<stdin>" if str(path) == "-" else str(path)
