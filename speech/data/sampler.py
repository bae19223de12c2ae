"""A length-bucketed batch sampler: batches of similar lengths under a total-frames budget.

Batches are made by sorting utterances by length (with a small seeded jitter so that the
grouping changes between epochs) and cutting the sorted list whenever the padded size of a
batch (``longest item x items``) would exceed ``max_frames``. The batch order is shuffled
with ``seed + epoch``, so every epoch is deterministic. Under DDP each rank takes every
``num_replicas``-th batch, so ranks see disjoint shares; the batch list is padded by
repeating its first batches so that every rank gets the same number of batches (a rank that
runs out early would leave the others waiting on a collective).

The jitter makes the number of batches differ between epochs, so ``len(sampler)`` always
answers for the epoch selected with :meth:`~LengthBucketSampler.set_epoch`, the epoch that
the next iteration yields; a trainer must read it again every epoch (the tasks' loaders are
reloaded each epoch for that reason). :meth:`~LengthBucketSampler.set_position` also skips the
batches of an epoch that a resumed training already consumed, without changing ``len``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

import torch.distributed as dist
from torch.utils.data import Sampler


class LengthBucketSampler(Sampler[list[int]]):
    """Yield lists of dataset indices whose padded size stays under a frame budget.

    Args:
        lengths: Length of every item in any unit (frames, samples or seconds).
        max_frames: Budget for ``longest item x batch size`` in the unit of ``lengths``.
            An item longer than the budget forms a batch of its own.
        max_batch_size: Optional cap on items per batch.
        shuffle: Jitter lengths and shuffle batch order per epoch; False keeps sorted order.
        seed: Base seed; epoch ``e`` uses ``seed + e``.
        num_replicas: Number of DDP ranks; defaults to the world size when torch.distributed
            is initialised, else 1.
        rank: This rank; defaults to the process rank, else 0.
        jitter: Relative length jitter used for grouping when shuffling (0.1 = ±10 %).
    """

    def __init__(
        self,
        lengths: Sequence[float],
        max_frames: float,
        max_batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
        jitter: float = 0.1,
    ) -> None:
        if max_frames <= 0:
            raise ValueError(f"max_frames must be positive, got {max_frames}")
        if not lengths:
            raise ValueError("cannot sample batches from an empty dataset")
        distributed = dist.is_available() and dist.is_initialized()
        self.num_replicas = num_replicas or (dist.get_world_size() if distributed else 1)
        self.rank = rank if rank is not None else (dist.get_rank() if distributed else 0)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"rank {self.rank} is not in [0, {self.num_replicas})")
        self.lengths = [float(x) for x in lengths]
        self.max_frames = max_frames
        self.max_batch_size = max_batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.jitter = jitter
        self.epoch = 0
        self.skip = 0
        self._cache: tuple[int, list[list[int]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose batches the next iteration yields, from its first batch."""
        self.set_position(epoch, 0)

    def set_position(self, epoch: int, skip: int = 0) -> None:
        """Select the epoch and the number of this rank's batches the next iteration leaves out.

        Args:
            epoch: The epoch whose batches are yielded.
            skip: Batches of that epoch already consumed (by a run that is being resumed).
        """
        if skip < 0:
            raise ValueError(f"skip must be >= 0, got {skip}")
        self.epoch, self.skip = epoch, skip

    def all_batches(self) -> list[list[int]]:
        """Every batch of the current epoch, for all ranks, before the DDP split."""
        if self._cache is None or self._cache[0] != self.epoch:
            self._cache = (self.epoch, self._make_batches())
        return [list(b) for b in self._cache[1]]

    def _make_batches(self) -> list[list[int]]:
        rng = random.Random(self.seed + self.epoch)
        order = list(range(len(self.lengths)))
        if self.shuffle:
            keys = [x * (1 + self.jitter * (2 * rng.random() - 1)) for x in self.lengths]
            order.sort(key=lambda i: keys[i])
        else:
            order.sort(key=lambda i: self.lengths[i])
        batches = self._cut(order)
        if self.shuffle:
            rng.shuffle(batches)
        return batches

    def _cut(self, order: list[int]) -> list[list[int]]:
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0.0
        for i in order:
            candidate = max(longest, self.lengths[i])
            full = self.max_batch_size is not None and len(current) >= self.max_batch_size
            if current and (candidate * (len(current) + 1) > self.max_frames or full):
                batches.append(current)
                current, candidate = [], self.lengths[i]
            current.append(i)
            longest = candidate
        if current:
            batches.append(current)
        return batches

    def _rank_batches(self) -> list[list[int]]:
        batches = self.all_batches()
        total = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
        batches += batches[: total - len(batches)]
        return batches[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        """This rank's batches of the selected epoch, less the first ``skip`` of them."""
        return iter(self._rank_batches()[self.skip :])

    def __len__(self) -> int:
        """This rank's number of batches in the selected epoch (``skip`` does not change it)."""
        return math.ceil(len(self.all_batches()) / self.num_replicas)

    def padding_fraction(self) -> float:
        """Share of the padded frames of this rank's batches (this epoch) that are padding."""
        padded = real = 0.0
        for batch in self._rank_batches():
            lengths = [self.lengths[i] for i in batch]
            padded += max(lengths) * len(lengths)
            real += sum(lengths)
        return 1.0 - real / padded if padded else 0.0
