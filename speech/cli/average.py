"""``speech average``: one model averaging an experiment's N best or N last kept models."""

from __future__ import annotations

import argparse
import json

from speech.cli._args import positive_int
from speech.errors import SpeechError
from speech.io import check_output_file


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech average``."""
    p = sub.add_parser(
        "average",
        help="average the weights of an experiment's best or last kept models into one model",
        description="Training keeps trainer.keep_checkpoints best models (by validation loss) and as "
        "many most recent ones in EXP_DIR/checkpoints/kept/. This writes one model whose weights are "
        "the mean of the N best (--best N) or N last (--last N) of them, usable wherever a "
        "model.ckpt is (speech transcribe --model ...).",
    )
    p.add_argument("--exp-dir", required=True, help="experiment folder (holds checkpoints/kept/)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--best", type=positive_int, metavar="N", help="the N best by validation loss")
    which.add_argument("--last", type=positive_int, metavar="N", help="the N most recent")
    p.add_argument("--out", help="model file to write (default: EXP_DIR/model_avg_best<N>.ckpt or _last<N>)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Average and write the model (atomically); one line naming what was averaged."""
    from pathlib import Path

    from speech.average import KEPT_DIR, average_models

    by, n = ("best", args.best) if args.best is not None else ("last", args.last)
    out = Path(args.out) if args.out else Path(args.exp_dir) / f"model_avg_{by}{n}.ckpt"
    kept = Path(args.exp_dir) / KEPT_DIR
    if out.resolve().parent == kept.resolve():
        raise SpeechError(
            f"{out}: write the averaged model outside {kept}, which holds the models it averages"
        )
    check_output_file(out, "averaged model")
    path, models = average_models(args.exp_dir, n, by, out)
    if args.json:
        print(
            json.dumps(
                {
                    "model": str(path),
                    "by": by,
                    "averaged": [
                        {"file": str(m.path), "step": m.step, "epoch": m.epoch, "value": m.value}
                        for m in models
                    ],
                }
            )
        )
    else:
        detail = ", ".join(
            f"epoch {m.epoch} (step {m.step}"
            + (f", {m.metric} {m.value:.4f})" if m.value is not None else ")")
            for m in models
        )
        print(f"averaged {len(models)} models ({by}: {detail}) into {path}")
    return 0
