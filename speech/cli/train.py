"""``speech train``: train a model from a YAML config."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech train``."""
    p = sub.add_parser(
        "train",
        help="train a model from a YAML config (asr, tts, st, lm)",
        description="Train a model. Extra KEY=VALUE arguments override the config "
        "(e.g. trainer.max_epochs=5 model.ctc_weight=0.5).",
    )
    p.add_argument(
        "task",
        choices=["asr", "tts", "st", "lm"],
        help="model family: asr, tts (Tacotron2), st (speech translation) or lm (RNN LM for shallow fusion)",
    )
    p.add_argument("--config", help="YAML config file (defaults apply to what it leaves out)")
    p.add_argument("--exp-dir", required=True, help="experiment folder: checkpoints, logs, model.ckpt")
    p.add_argument(
        "--init-encoder-from",
        metavar="CKPT",
        help="st only: initialise the encoder from this ASR checkpoint (sets init.encoder_from)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides, values parsed as YAML",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train (resuming from the experiment's last checkpoint if there is one)."""
    from speech.errors import SpeechError
    from speech.tasks.train import train_asr, train_lm, train_st, train_tts

    if args.task == "st":
        out = train_st(args.config, args.exp_dir, args.overrides, init_encoder_from=args.init_encoder_from)
    elif args.init_encoder_from:
        raise SpeechError("--init-encoder-from applies to 'speech train st' only")
    else:
        out = {"asr": train_asr, "lm": train_lm, "tts": train_tts}[args.task](
            args.config, args.exp_dir, args.overrides
        )
    print(f"model written to {out}")
    return 0
