"""What a kernel keys its derived weights on (a transposed copy, filterbank blocks)."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def tensor_versions(tensors: Iterable[torch.Tensor]) -> tuple[tuple[int, int], ...] | None:
    """``(data_ptr, version)`` of each tensor, a key for what is derived from them.

    It stays the same exactly while no tensor is replaced or written in place (an optimiser
    step, ``load_state_dict`` or ``.to()`` change it). Writes through ``tensor.data`` bypass the
    version counter: a cache keyed on this needs a way to be dropped for them.

    Returns:
        The key, or None when a tensor has no version counter (made under ``inference_mode``):
        then nothing derived from them may be kept.
    """
    try:
        return tuple((t.data_ptr(), t._version) for t in tensors)
    except RuntimeError:  # inference tensors do not track versions
        return None
