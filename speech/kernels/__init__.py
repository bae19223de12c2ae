"""Hardware-specific kernels, chosen once when an inference object is built.

Every model module computes the reference maths (:mod:`speech.attention`,
:mod:`speech.features`). A kernel is a subclass of one of them with the same parameters and
buffers, the same state dict and the same results (to about 1e-5, asserted by tests), that
computes faster on one kind of device: today CPU inference. :func:`use_inference_kernels`
switches the modules of a model to the kernels of its device, the way nanoGPT picks its
flash-attention path once; nothing branches on the device at each call to choose. Where a
kernel does not apply (gradients enabled, another device), it runs the reference maths, so a
model switched to kernels still trains exactly as before.
"""

from __future__ import annotations

import torch
from torch import nn

from speech.attention import AdditiveAttention, LocationAwareAttention
from speech.features import LogMel
from speech.kernels.attention import CPUAdditiveAttention, CPULocationAwareAttention
from speech.kernels.logmel import CPULogMel, log_mel_cpu

CPU_KERNELS: dict[type[nn.Module], type[nn.Module]] = {
    AdditiveAttention: CPUAdditiveAttention,
    LocationAwareAttention: CPULocationAwareAttention,
    LogMel: CPULogMel,
}
"""Reference class to its CPU kernel (exact classes: a user's subclass keeps its own forward)."""

_REFERENCES = {kernel: reference for reference, kernel in CPU_KERNELS.items()}


def use_inference_kernels(module: nn.Module, device: torch.device | str) -> nn.Module:
    """Switch ``module`` and its submodules to the inference kernels of ``device``, in place.

    On CPU each module of a class in :data:`CPU_KERNELS` becomes its kernel; on any other
    device (CUDA) every kernel goes back to its reference class. Parameters, buffers, state
    dict and attributes are untouched (the instance's class changes, as
    ``torch.nn.utils.parametrize`` does), so references held elsewhere see the switch too, and
    calling it again changes nothing.

    Args:
        module: A model, a front end or any module tree (Lightning is not needed).
        device: The device the module runs on.

    Returns:
        ``module`` itself, for chaining.
    """
    swaps = CPU_KERNELS if torch.device(device).type == "cpu" else _REFERENCES
    for sub in module.modules():
        kind = swaps.get(type(sub))
        if kind is not None:
            sub.__class__ = kind
    return module


STOP_CHECK_EVERY = 8
"""Steps between the checks whether a decoding loop is done, off the CPU (see :func:`stop_check_every`)."""


def stop_check_every(device: torch.device | str) -> int:
    """How many steps a decoding loop runs between its checks whether every item is done.

    The check reads a device tensor on the host, so on a GPU it waits for every queued kernel:
    asked at every step, it keeps the GPU idle between steps. Off the CPU the loops ask every
    :data:`STOP_CHECK_EVERY` steps and drop what they computed past the end; on CPU the check
    costs nothing and every step past the end would, so they ask at every step.
    """
    return 1 if torch.device(device).type == "cpu" else STOP_CHECK_EVERY


__all__ = [
    "STOP_CHECK_EVERY",
    "CPU_KERNELS",
    "CPUAdditiveAttention",
    "CPULocationAwareAttention",
    "CPULogMel",
    "log_mel_cpu",
    "stop_check_every",
    "use_inference_kernels",
]
