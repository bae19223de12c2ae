"""One exported graph: a wrapper module with flat tensor inputs and outputs, saved as ONNX or TorchScript.

ONNX files are written by the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``):
the dynamo exporter of torch 2.11 cannot export ``nn.LSTM`` over a dynamic length (it stops on
unbacked symbols in ``aten.lstm``), while the legacy exporter emits ONNX ``LSTM`` nodes and keeps
the batch and time axes symbolic, pyramid frame pairing of odd lengths included (the tests
check two batch sizes and lengths). TorchScript files are ``torch.jit.trace`` of the same
wrappers, which records the same shape arithmetic.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

OPSET = 17
"""ONNX opset of every exported graph (LSTM, LayerNorm and the rest are plain opset-17 ops)."""
FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}


@dataclass
class Graph:
    """A wrapper module and what is needed to export it.

    Attributes:
        name: File stem and manifest key (``encoder``, ``decoder_step`` ...).
        module: The wrapper, in eval mode; ``forward`` takes and returns flat tensors.
        inputs: Example inputs, in ``forward``'s order.
        input_names: One name per input.
        output_names: One name per output.
        dynamic_axes: Per tensor name, its dynamic axes as ``{axis: label}``.
    """

    name: str
    module: nn.Module
    inputs: tuple[torch.Tensor, ...]
    input_names: list[str]
    output_names: list[str]
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)

    def outputs(self) -> tuple[torch.Tensor, ...]:
        """The wrapper's outputs on the example inputs."""
        with torch.no_grad():
            out = self.module(*self.inputs)
        return out if isinstance(out, tuple) else (out,)

    def signature(self) -> dict[str, Any]:
        """Manifest entry: each input and output with its dtype and shape (labels for dynamic axes)."""

        def spec(name: str, tensor: torch.Tensor) -> dict[str, Any]:
            axes = self.dynamic_axes.get(name, {})
            shape = [axes.get(i, int(n)) for i, n in enumerate(tensor.shape)]
            return {"name": name, "dtype": str(tensor.dtype).removeprefix("torch."), "shape": shape}

        return {
            "inputs": [spec(n, t) for n, t in zip(self.input_names, self.inputs, strict=True)],
            "outputs": [spec(n, t) for n, t in zip(self.output_names, self.outputs(), strict=True)],
        }


def save_graph(graph: Graph, folder: Path, fmt: str) -> dict[str, Any]:
    """Write ``graph`` into ``folder`` as ``fmt``; returns its manifest entry (file, inputs, outputs)."""
    path = folder / f"{graph.name}{SUFFIXES[fmt]}"
    module = graph.module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # tracer and exporter chatter (constant shapes of weights, deprecation)
        if fmt == "onnx":
            torch.onnx.export(
                module,
                graph.inputs,
                str(path),
                dynamo=False,
                opset_version=OPSET,
                input_names=graph.input_names,
                output_names=graph.output_names,
                dynamic_axes=graph.dynamic_axes,
                do_constant_folding=True,
            )
        else:
            traced = torch.jit.trace(module, graph.inputs, check_trace=False)
            traced.save(str(path))
    return {"file": path.name, **graph.signature()}
