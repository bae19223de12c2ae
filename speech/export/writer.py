"""``export_model``: a checkpoint's graphs as ONNX or TorchScript files, with a ``manifest.json``.

The manifest names each file with its inputs and outputs, and holds everything a runtime needs
besides the graphs, as plain data: the tokenizer, the special token ids, the feature and CMVN
settings, the search or synthesis settings. :mod:`speech.inference.onnx` runs an exported folder
without the checkpoint. The folder is written under a temporary name next to ``out`` and renamed
into place only when complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from speech.checkpoint import load_checkpoint
from speech.errors import SpeechError
from speech.export.graph import FORMATS, OPSET, Graph, save_graph
from speech.inference.metadata import CheckpointMeta
from speech.io import check_output_dir

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
EXPORTABLE = ("asr", "st", "tts", "vocoder")
EXPORTER = "torch.onnx.export(dynamo=False): TorchScript-based; the dynamo exporter cannot export nn.LSTM"


@dataclass
class ExportResult:
    """What :func:`export_model` wrote: the folder, the checkpoint's task and the graph files."""

    out: Path
    task: str
    files: list[str]


def export_model(
    model: str | os.PathLike, out: str | os.PathLike, fmt: str = "onnx", force: bool = False
) -> ExportResult:
    """Export an ASR, ST, TTS or vocoder checkpoint to ``out``.

    Args:
        model: The checkpoint (training or ``model.ckpt``).
        out: The folder to write; it must not exist or be empty, unless ``force`` replaces it.
        fmt: ``onnx`` or ``torchscript``.
        force: Replace a non-empty ``out``.

    Raises:
        SpeechError: One line: a bad format, a missing or foreign checkpoint, a task that has
            no export (language models), or an output folder that cannot be written or is not empty.
    """
    if fmt not in FORMATS:
        raise SpeechError(f"unknown export format {fmt!r} (expected {' or '.join(FORMATS)})")
    out = Path(out)
    _check_out(out, force)
    task = load_checkpoint(model).get("speech", {}).get("task")
    if task not in EXPORTABLE:
        raise SpeechError(f"{model}: a {task} checkpoint; export takes {', '.join(EXPORTABLE)} checkpoints")
    meta = CheckpointMeta(model, task)
    graphs, metadata = _family(meta, task)
    with _atomic_folder(out, force) as tmp:
        files = {g.name: save_graph(g, tmp, fmt) for g in graphs}
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "task": task,
            "format": fmt,
            "exporter": EXPORTER if fmt == "onnx" else "torch.jit.trace",
            "opset": OPSET if fmt == "onnx" else None,
            "torch": torch.__version__,
            "files": files,
            "metadata": metadata,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return ExportResult(out, task, [f["file"] for f in files.values()])


def _family(meta: CheckpointMeta, task: str) -> tuple[list[Graph], dict[str, Any]]:
    """The graphs of a checkpoint's model and its manifest metadata."""
    info = meta.info
    if task in ("asr", "st"):
        from speech.export.s2t import s2t_graphs
        from speech.models.s2t import SpeechToText

        tokenizer = meta.tokenizer()
        meta.check_match("model.vocab_size", info.model.vocab_size, "the tokenizer's", tokenizer.vocab_size)
        model = meta.load_weights(meta.build(SpeechToText, info.model))
        c = info.model
        metadata = {
            "tokenizer": tokenizer.to_dict(),
            "features": info.features.to_dict(),
            "cmvn": _cmvn(meta, info.features.n_mels),
            "search": dataclasses.asdict(info.search),
            "bos_id": c.bos_id,
            "eos_id": c.eos_id,
            "pad_id": c.pad_id,
            "never_emit": list(model.speller.never_emit),
            "ctc": {"tokens": c.ctc_tokens, "blank_id": c.ctc_blank_id} if model.ctc is not None else None,
            "ctc_weight": c.ctc_weight if c.ctc_tokens == "target" else 0.0,
            "reduction": c.listener.reduction,
            "speller": {
                "n_layers": c.speller.n_layers,
                "hidden_size": c.speller.hidden_size,
                "attention_heads": c.speller.attention_heads,
                "memory_dim": c.listener.output_dim,
            },
            "target_lang": info.target_lang,
        }
        return s2t_graphs(model), metadata
    if task == "tts":
        from speech.export.tts import tts_graphs
        from speech.models.tacotron2 import Tacotron2

        tokenizer = meta.tokenizer()
        meta.check_match(
            "model.n_symbols", info.model.n_symbols, "the tokenizer's vocabulary", tokenizer.vocab_size
        )
        model = meta.load_weights(meta.build(Tacotron2, info.model))
        metadata = {
            "tokenizer": tokenizer.to_dict(),
            "features": info.features.to_dict(),
            "cmvn": _cmvn(meta, info.features.n_mels),
            "text": dataclasses.asdict(info.text),
            "inference": dataclasses.asdict(info.inference),
            "speakers": list(info.speakers),
            "model": {
                "n_mels": info.model.n_mels,
                "reduction_factor": info.model.reduction_factor,
                "prenet_dims": list(info.model.prenet_dims),
                "prenet_dropout": info.model.prenet_dropout,
                "attention_rnn_dim": info.model.attention_rnn_dim,
                "decoder_rnn_dim": info.model.decoder_rnn_dim,
                "memory_dim": info.model.memory_dim,
                "pad_id": info.model.pad_id,
            },
        }
        return tts_graphs(model), metadata
    from speech.export.vocoder import vocoder_graphs
    from speech.models.vocoder import VocosGenerator

    meta.check_match("model.n_mels", info.model.n_mels, "features.n_mels", info.features.n_mels)
    generator = meta.load_weights(
        meta.build(lambda c: VocosGenerator(c, info.features), info.model), "generator"
    )
    metadata = {"features": info.features.to_dict(), "model": dataclasses.asdict(info.model)}
    return vocoder_graphs(generator), metadata


def _cmvn(meta: CheckpointMeta, n_mels: int) -> dict[str, list[float]]:
    cmvn = meta.cmvn(n_mels)  # checked: finite, positive std
    return {"mean": cmvn.mean.tolist(), "std": cmvn.std.tolist()}


def _check_out(out: Path, force: bool) -> None:
    """Refuse a file, a non-empty folder (without ``force``) or an unwritable parent before any work."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise SpeechError(f"{out}: cannot write the export folder (it is a file)")
        if any(out.iterdir()) and not force:
            raise SpeechError(f"{out}: the export folder is not empty (use --force to replace it)")
    check_output_dir(out.parent, "folder of the export")


@contextlib.contextmanager
def _atomic_folder(out: Path, force: bool):
    """A temporary folder next to ``out``, renamed onto it when the block succeeds (removed otherwise)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if out.exists() and any(out.iterdir()):
            if not force:
                raise SpeechError(f"{out}: the export folder is not empty (use --force to replace it)")
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
        os.replace(tmp, out)  # onto a missing or empty folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.replace(old / "previous", out)  # put the previous export back
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
