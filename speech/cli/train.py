"""``speech train``: train a model from a YAML config."""

from __future__ import annotations

import argparse
import json
import sys

from speech.cli._args import add_set_option
from speech.tasks import TASKS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech train``."""
    p = sub.add_parser(
        "train",
        help="train a model from a YAML config (asr, tts, st, lm, vocoder)",
        description="Train a model, or resume it from EXP_DIR/checkpoints/last.ckpt. KEY=VALUE "
        "arguments, after the task or after --set, override the config, values parsed as YAML "
        "(e.g. trainer.max_epochs=5 model.ctc_weight=0.5). SIGTERM or Ctrl-C stops after the "
        "current batch, saves last.ckpt and exits 143 or 130; rerun the same command to resume.",
    )
    p.add_argument(
        "task",
        choices=list(TASKS),
        help="model family: asr, tts (Tacotron2), st (speech translation), lm (RNN LM for shallow "
        "fusion) or vocoder (GAN vocoder for tts)",
    )
    p.add_argument(
        "bare_overrides",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides, values parsed as YAML (same as --set)",
    )
    p.add_argument("--config", help="YAML config file (defaults apply to what it leaves out)")
    p.add_argument("--exp-dir", required=True, help="experiment folder: checkpoints, logs, model.ckpt")
    p.add_argument(
        "--init-encoder-from",
        metavar="CKPT",
        help="asr and st: initialise the encoder from this ASR checkpoint (sets init.encoder_from)",
    )
    p.add_argument(
        "--init-from",
        metavar="CKPT",
        help="asr and st: start from this checkpoint's weights (same task, tokenizer and model sizes) "
        "with a fresh optimiser, LR schedule and step count, to fine-tune it, e.g. with "
        "loss.criterion=mwer (sets init.model_from)",
    )
    add_set_option(p)
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar or model summary (sets trainer.progress_bar=false)",
    )
    p.__class__ = type("TrainArgumentParser", (_Intermixed, type(p)), {})
    p.set_defaults(func=run)


class _Intermixed(argparse.ArgumentParser):
    """Parse ``KEY=VALUE`` positionals wherever they stand, before or after the options.

    Plain argparse fills all positionals from the first run of them (here the task alone) and
    rejects the ones after an option; ``parse_known_intermixed_args`` does not.
    """

    _inside = False

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102 - argparse hook
        if self._inside:  # parse_known_intermixed_args calls back here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def run(args: argparse.Namespace) -> int:
    """Train (resuming from the experiment's last checkpoint if there is one).

    Returns:
        0 when the model was written; 143 (SIGTERM) or 130 (SIGINT) when training was interrupted.
    """
    from speech.tasks.train import TrainingInterruptedError, train

    overrides = [*args.bare_overrides, *args.overrides]
    if args.quiet:
        overrides.append("trainer.progress_bar=false")
    try:
        out = train(
            args.task,
            args.config,
            args.exp_dir,
            overrides,
            init_encoder_from=args.init_encoder_from,
            init_from=args.init_from,
        )
    except TrainingInterruptedError as e:
        print(f"speech train: {e}", file=sys.stderr)
        return e.exit_code
    if args.json:
        print(json.dumps({"model": str(out), "exp_dir": str(args.exp_dir)}))
    else:
        print(f"model written to {out}")
    return 0
