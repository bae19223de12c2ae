"""``speech export``: a checkpoint's graphs as ONNX or TorchScript files, for other runtimes."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech export``."""
    p = sub.add_parser(
        "export",
        help="export a model to ONNX or TorchScript (encoder and decoder step, or the whole vocoder)",
        description="Write OUT/: for ASR and ST the encoder and one decoder step (a runtime drives its "
        "own search); for TTS the encoder, the decoder step and the postnet; for a vocoder the whole "
        "network; and manifest.json with each file's inputs and outputs, the tokenizer and every "
        "setting a runtime needs (speech.inference.onnx runs an ONNX export). The log-mel front end "
        "is not exported. The folder is written under a temporary name and renamed when complete.",
    )
    p.add_argument("--model", required=True, help="ASR, ST, TTS or vocoder checkpoint")
    p.add_argument("--format", choices=("onnx", "torchscript"), default="onnx", help="file format")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (missing or empty)")
    p.add_argument("--force", action="store_true", help="replace a non-empty OUT")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export; one line naming what was written."""
    import torch

    from speech.export import export_model

    torch.set_num_threads(1)  # export is not compute-bound; the tracer is single-threaded anyway
    result = export_model(args.model, args.out, args.format, force=args.force)
    if args.json:
        print(json.dumps({"out": str(result.out), "task": result.task, "files": result.files}))
    else:
        print(
            f"exported the {result.task} model to {result.out}: {', '.join(result.files)} and manifest.json"
        )
    return 0
