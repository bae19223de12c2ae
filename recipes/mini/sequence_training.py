"""Sequence-level training on the mini corpus: CE vs MWER vs scheduled sampling (ASR), CE vs MRT (ST).

Every setting fine-tunes the same trained model (``--init-from``, weights only) from the same
config on a ``base:`` (``recipes/mini/asr/conf/mwer.yaml``, ``recipes/mini/st/conf/mrt.yaml``),
once per seed, and differs only in its criterion and budget:

- ``ce``: continued cross-entropy training for ``--ce-epochs`` epochs, chosen so that its
  wall-clock time matches one epoch of MWER/MRT (each run's time is reported);
- ``ce_1epoch``: one epoch of cross-entropy, the sequence criterion's number of steps;
- ``ss``: the same with scheduled sampling (ASR), the existing linear ramp up to
  ``--ss-probability`` over the first half of the steps;
- ``mwer`` (ASR) / ``mrt`` (ST, sentence BLEU): one epoch of the sequence criterion.

ASR is scored with beam 8 + CTC (the model's search) on dev, test and test_unseen, and on the
utterances of espeak-ng voices alone (those of test and test_unseen); ST with BLEU, chrF and
exact match on dev and test. Each figure is the mean over seeds with its range. A finished run
or decode is not redone, so a rerun continues where it stopped.

Usage (the README's table)::

    python recipes/mini/sequence_training.py --out-dir recipes/mini/seq17 --seeds 0 1 --threads 2

``--quick`` runs the whole loop with two training steps a run (a dry run of the pipeline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from speech.data import read_manifest  # noqa: E402
from speech.metrics import error_rates, read_id_text, translation_scores  # noqa: E402
from speech.metrics.intelligibility import normalize_for_wer  # noqa: E402

ASR_SETS = ("dev", "test", "test_unseen")
ST_SETS = ("dev", "test")


def is_espeak(speaker: str) -> bool:
    """espeak-ng voices are named language[-variant]+voice (flite and festival voices are not)."""
    return "+" in speaker and not speaker.startswith("festival:")


def run(cmd: list[str], log: Path) -> float:
    """Run a command, its output appended to ``log``; returns its wall-clock seconds."""
    start = time.perf_counter()
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"{cmd[0]} {cmd[1]} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - start


def train(task: str, exp: Path, base: Path, config: Path, sets: list[str], log: Path) -> float:
    """Fine-tune once; returns the training's seconds (0 when it was already done)."""
    timing = exp / "train_seconds.json"
    if (exp / "model.ckpt").is_file() and timing.is_file():
        return json.loads(timing.read_text())["seconds"]
    cmd = ["speech", "train", task, "--config", str(config), "--exp-dir", str(exp), "--init-from", str(base)]
    seconds = run([*cmd, "--quiet", "--set", *sets], log)
    timing.write_text(json.dumps({"seconds": seconds}))
    return seconds


def decode(command: str, model: Path, manifest: Path, out: Path, threads: int, log: Path) -> None:
    """Decode a manifest with the model's own search (beam 8 + CTC for ASR) unless already done."""
    if not out.is_file():
        cmd = ["speech", command, "--model", str(model), "--manifest", str(manifest), "--out", str(out)]
        run([*cmd, "--threads", str(threads), "--quiet"], log)


def asr_scores(exp: Path, corpus: Path) -> dict[str, float]:
    """WER % of each set, and of the espeak-ng voices' utterances of test and test_unseen."""
    scores, espeak_refs, espeak_hyps = {}, [], []
    for name in ASR_SETS:
        refs = read_id_text(exp / f"decode_{name}" / "ref.txt")
        hyps = read_id_text(exp / f"decode_{name}" / "hyp.txt")
        ids = list(refs)
        ref = [normalize_for_wer(refs[i]) for i in ids]
        hyp = [normalize_for_wer(hyps.get(i, "")) for i in ids]
        scores[name] = 100 * error_rates(ref, hyp).wer
        if name != "dev":
            speakers = {u.id: u.speaker or "" for u in read_manifest(corpus / f"{name}.jsonl")}
            keep = [k for k, i in enumerate(ids) if is_espeak(speakers[i])]
            espeak_refs += [ref[k] for k in keep]
            espeak_hyps += [hyp[k] for k in keep]
    scores["espeak"] = 100 * error_rates(espeak_refs, espeak_hyps).wer
    scores["espeak_utterances"] = len(espeak_refs)
    return scores


def st_scores(exp: Path) -> dict[str, float]:
    """BLEU, chrF and exact match % of each set."""
    scores = {}
    for name in ST_SETS:
        refs = read_id_text(exp / f"decode_{name}" / "ref.txt")
        hyps = read_id_text(exp / f"decode_{name}" / "hyp.txt")
        ids = list(refs)
        s = translation_scores([refs[i] for i in ids], [hyps.get(i, "") for i in ids])
        scores |= {f"{name}_bleu": s.bleu, f"{name}_chrf": s.chrf, f"{name}_exact": 100 * s.exact_match}
    return scores


def summary(values: list[float]) -> str:
    """Mean over seeds with the range."""
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.2f}"
    return f"{mean:.2f} ({min(values):.2f}–{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    """Train, decode and score every setting and seed; write results.json and RESULTS.md."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--asr-base", type=Path, default=ROOT / "recipes/mini/asr/exp16/model.ckpt")
    p.add_argument("--st-base", type=Path, default=ROOT / "recipes/mini/st/exp14/model.ckpt")
    p.add_argument(
        "--data", type=Path, default=ROOT / "recipes/mini/asr/data", help="the mini recipes' data folder"
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--ce-epochs", type=int, default=3, help="epochs of cross-entropy per epoch of MWER/MRT")
    p.add_argument("--ss-probability", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tasks", nargs="+", default=["asr", "st"], choices=["asr", "st"])
    p.add_argument("--quick", action="store_true", help="two training steps a run (a dry run)")
    args = p.parse_args(argv)
    out, data = args.out_dir, args.data
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    corpus = data / "corpus"
    common = [
        f"trainer.num_threads={args.threads}",
        "trainer.progress_bar=false",
        "trainer.keep_checkpoints=0",
    ]
    steps_per_epoch = 225  # the mini recipes' 4,000 training utterances at data.max_seconds=60
    if args.quick:
        common += ["trainer.max_steps=2", "trainer.log_every_n_steps=1"]
    results: dict = {"settings": {}, "runs": {}}
    rows = []
    for task in args.tasks:
        if task == "asr":
            config = ROOT / "recipes/mini/asr/conf/mwer.yaml"
            base, sets = args.asr_base, ASR_SETS
            data_sets = [
                f"data.train={corpus}/train.jsonl",
                f"data.dev={corpus}/dev.jsonl",
                f"data.tokenizer={data}/tokenizer.json",
                f"data.cmvn={data}/cmvn.json",
            ]
            ce_steps = args.ce_epochs * steps_per_epoch
            ss = [
                f"scheduled_sampling.max_probability={args.ss_probability}",
                "scheduled_sampling.start_step=0",
                f"scheduled_sampling.end_step={ce_steps // 2}",
            ]
            settings = {
                "ce": ["loss.criterion=ce", f"trainer.max_epochs={args.ce_epochs}"],
                "ce_1epoch": ["loss.criterion=ce", "trainer.max_epochs=1"],
                "ss": ["loss.criterion=ce", f"trainer.max_epochs={args.ce_epochs}", *ss],
                "mwer": [],
            }
        else:
            config = ROOT / "recipes/mini/st/conf/mrt.yaml"
            base, sets = args.st_base, ST_SETS
            data_sets = [
                f"data.train={corpus}/train.jsonl",
                f"data.dev={corpus}/dev.jsonl",
                f"data.target_tokenizer={data}/st_tokenizer_fr.json",
                f"data.source_tokenizer={data}/tokenizer.json",
                f"data.cmvn={data}/cmvn.json",
            ]
            settings = {
                "ce": ["loss.criterion=ce", f"trainer.max_epochs={args.ce_epochs}"],
                "ce_1epoch": ["loss.criterion=ce", "trainer.max_epochs=1"],
                "mrt": [],
            }
        base_exp = base.parent
        per_setting: dict[str, list[dict]] = {"base": []}
        base_scores = asr_scores(base_exp, corpus) if task == "asr" else st_scores(base_exp)
        per_setting["base"].append(base_scores | {"seconds": 0.0})
        for name, extra in settings.items():
            per_setting[name] = []
            for seed in args.seeds:
                exp = out / task / f"{name}_seed{seed}"
                print(f"{task} {name} seed {seed}: {exp}", flush=True)
                seconds = train(
                    task, exp, base, config, [*data_sets, *common, f"trainer.seed={seed}", *extra], log
                )
                command = "transcribe" if task == "asr" else "translate"
                for s in sets:
                    decode(
                        command,
                        exp / "model.ckpt",
                        corpus / f"{s}.jsonl",
                        exp / f"decode_{s}" / "hyp.txt",
                        args.threads,
                        log,
                    )
                scores = asr_scores(exp, corpus) if task == "asr" else st_scores(exp)
                per_setting[name].append(scores | {"seconds": seconds, "seed": seed})
                results["runs"][f"{task}/{name}/seed{seed}"] = per_setting[name][-1]
        results["settings"][task] = {k: v for k, v in settings.items()}
        rows.append((task, per_setting))
    (out / "results.json").write_text(json.dumps(results, indent=1))
    table = render(rows, args)
    (out / "RESULTS.md").write_text(table)
    print(table)
    return 0


def render(rows, args) -> str:
    """The markdown tables."""
    lines = [f"# Sequence-level training (seeds {', '.join(map(str, args.seeds))}; mean (min–max))", ""]
    for task, per_setting in rows:
        if task == "asr":
            cols = [
                ("dev", "dev WER %"),
                ("test", "test WER %"),
                ("espeak", "espeak WER %"),
                ("test_unseen", "test_unseen WER %"),
            ]
        else:
            cols = [
                ("dev_bleu", "dev BLEU"),
                ("test_bleu", "test BLEU"),
                ("test_chrf", "test chrF"),
                ("test_exact", "test exact %"),
            ]
        lines += [f"## {task.upper()}", "", "| setting | " + " | ".join(c[1] for c in cols) + " | train s |"]
        lines.append("|---|" + "---:|" * (len(cols) + 1))
        for name, runs in per_setting.items():
            cells = [summary([r[k] for r in runs]) for k, _ in cols]
            secs = "–" if name == "base" else summary([r["seconds"] for r in runs])
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {secs} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
