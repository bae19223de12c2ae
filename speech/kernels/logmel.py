"""CPU kernel of the log-mel front end: the same features as :func:`speech.features.log_mel`.

Changes of schedule, not of maths (they agree to about 1e-5):

- the batch is processed in chunks of about ``_CHUNK_SAMPLES`` samples, each trimmed to its
  longest item: large STFT buffers (tens of MB) cost more in page faults and cache misses
  than the FFTs themselves;
- the mel filterbank is banded, so it is applied as dense blocks of at most ``_MELS_PER_BLOCK``
  consecutive filters that skip its zero regions (about 5x fewer multiply-adds than one dense
  matmul); the blocks are built once per filterbank tensor and cached;
- for the power spectrum (``power=2``), ``|X|^2 @ fbank`` is computed as
  ``[Re^2, Im^2] @ fbank_rows_doubled``: the squares are taken in place in the STFT's buffer and
  the sum of the two parts happens inside the matmul, so no |X|^2 tensor is allocated and
  written (1 MB per 10 s of audio); the matmuls read twice the columns instead, which costs
  about what the sum did in a warm process and saves its page faults in a cold one;
- the matmuls write into the output buffer and the log runs in place there; padding work
  (masks, zero fills) is skipped for chunks without padding.

With gradients required (``out=`` ops have none) the reference :func:`log_mel` runs instead.
"""

from __future__ import annotations

import torch
from torch.utils.weak import WeakIdKeyDictionary

from speech.features import LogMel, LogMelConfig, LogMelOutput, log_mel
from speech.features._masks import valid_mask
from speech.features.logmel import complex_stft, log_mel_inputs
from speech.kernels.versions import tensor_versions

_CHUNK_SAMPLES = 1 << 18
_MELS_PER_BLOCK = 16
"""Filters per banded block. MKL's sgemm of (frames, K) @ (K, N) costs about the same for any
N <= 16 (the time goes into reading the frames' K columns) and about 1.5x more from N = 20, so
blocks of 16 need the fewest calls and columns read: 5 blocks for 80 mels."""

Block = tuple[int, int, int, int, torch.Tensor]
"""``(row_lo, row_hi, mel_lo, mel_hi, weights)``: ``energy[:, row_lo:row_hi] @ weights`` gives
mel columns ``[mel_lo, mel_hi)``; ``weights`` is a contiguous (row_hi - row_lo, mel_hi - mel_lo)."""

_BLOCKS: WeakIdKeyDictionary = WeakIdKeyDictionary()
"""Filterbank tensor -> (its tensor_versions, n_groups, interleaved, blocks); entries die with the tensor."""


def log_mel_cpu(
    waveforms: torch.Tensor,
    config: LogMelConfig,
    lengths: torch.Tensor | None = None,
    *,
    window: torch.Tensor | None = None,
    mel_fbank: torch.Tensor | None = None,
) -> LogMelOutput:
    """:func:`speech.features.log_mel` of CPU waveforms (B, T_samples), chunked and banded.

    Args:
        waveforms: Padded waveforms (B, T_samples), any float dtype, on the CPU.
        config: Front-end parameters.
        lengths: Valid samples per item (B,), integer; ``None`` means every item is full length.
        window: Precomputed :func:`speech.features.stft_window` (built when ``None``).
        mel_fbank: Precomputed :func:`speech.features.mel_filterbank` (built when ``None``).

    Returns:
        ``LogMelOutput(features (B, T_frames, F), frame_lengths (B,))``.

    Raises:
        ValueError: ``waveforms`` is not 2-D, or ``lengths`` has the wrong shape or range.
    """
    if waveforms.requires_grad and torch.is_grad_enabled():
        return log_mel(waveforms, config, lengths, window=window, mel_fbank=mel_fbank)
    lengths, window, mel_fbank = log_mel_inputs(waveforms, config, lengths, window, mel_fbank)
    if torch.is_autocast_enabled("cpu"):
        with torch.autocast(device_type="cpu", enabled=False):
            features = _chunked(waveforms.float(), lengths, config, window, mel_fbank)
    else:  # entering and leaving autocast costs a few microseconds, a fair share of a short clip
        features = _chunked(waveforms.float(), lengths, config, window, mel_fbank)
    return LogMelOutput(features, 1 + lengths // config.hop_length)


class CPULogMel(LogMel):
    """:class:`~speech.features.LogMel` computed by :func:`log_mel_cpu` on CPU inputs."""

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> LogMelOutput:
        """As :meth:`LogMel.forward`; inputs off the CPU take the reference path."""
        if waveforms.device.type != "cpu":
            return super().forward(waveforms, lengths)
        return log_mel_cpu(waveforms, self.config, lengths, window=self.window, mel_fbank=self.mel_fbank)


def _chunked(
    waveforms: torch.Tensor,
    lengths: torch.Tensor,
    config: LogMelConfig,
    window: torch.Tensor,
    mel_fbank: torch.Tensor,
) -> torch.Tensor:
    """Chunks of items, each trimmed to its longest item; (B, T) -> (B, T_frames, F)."""
    B, T = waveforms.shape
    n_frames = config.num_frames(T)
    out = waveforms.new_empty(B, n_frames, config.n_mels)
    interleaved = config.power == 2.0
    blocks = _filterbank_blocks(mel_fbank, -(-config.n_mels // _MELS_PER_BLOCK), interleaved)
    length_list = lengths.tolist()
    step = max(1, _CHUNK_SAMPLES // max(T, 1))
    for start in range(0, B, step):
        stop = min(start + step, B)
        chunk_lengths = length_list[start:stop]
        n = max(chunk_lengths)
        padded = min(chunk_lengths) < n
        whole = stop - start == B  # one chunk: no slicing (each slice is a dispatched op)
        chunk = waveforms if whole and n == T else waveforms[start:stop, :n]
        if padded:
            chunk = chunk.masked_fill(~valid_mask(lengths[start:stop], n), 0.0)
        frames = config.num_frames(n)
        # (b, frames, F); contiguous unless b > 1 and frames < n_frames
        target = out if whole and frames == n_frames else out[start:stop, :frames]
        _log_mel_into(target, _energy(chunk, config, window, interleaved), blocks, config.log_floor)
        if padded:
            frame_mask = valid_mask(1 + lengths[start:stop] // config.hop_length, frames)  # (b, frames)
            target.masked_fill_(~frame_mask[..., None], 0.0)
        if frames < n_frames:
            out[start:stop, frames:] = 0.0
    return out


def _energy(
    chunk: torch.Tensor, config: LogMelConfig, window: torch.Tensor, interleaved: bool
) -> torch.Tensor:
    """The spectrum of a chunk (b, n) as a 2-D matrix of frames (b * T_frames, columns).

    Args:
        chunk: Float32 waveforms (b, n), zero past each item's length.
        config: Front-end parameters.
        window: The STFT window.
        interleaved: Leave ``Re^2`` and ``Im^2`` unsummed (``power=2`` only), for blocks built
            with ``interleaved=True``.

    Returns:
        ``interleaved``: ``Re^2, Im^2`` of each bin side by side (2 * n_freqs columns), squared in
        place in the STFT's buffer; otherwise ``|X|^power`` (n_freqs columns).
    """
    parts = torch.view_as_real(complex_stft(chunk, config, window)).square_()  # (b, t, n_freqs, 2)
    if interleaved:
        return parts.reshape(-1, 2 * config.n_freqs)  # a view: the STFT's memory is frame-major
    energy = parts[..., 0] + parts[..., 1]  # (b, t, n_freqs) = |X|^2
    if config.power == 1.0:
        energy = energy.sqrt_()
    return energy.reshape(-1, config.n_freqs)


def _log_mel_into(target: torch.Tensor, energy: torch.Tensor, blocks: list[Block], log_floor: float) -> None:
    """``target = ln(max(energy @ fbank, log_floor))`` with the banded filterbank ``blocks``.

    Args:
        target: (b, t, F) slice of the output; written in place.
        energy: (b * t, rows) from :func:`_energy`.
        blocks: :func:`_filterbank_blocks` of the filterbank, matching ``energy``'s rows.
        log_floor: Smallest value passed to the log.
    """
    b, t, n_mels = target.shape
    # the matmuls write straight into the output when it folds to 2-D (one item, or full-length
    # items); a padded multi-item chunk goes through a buffer and the log copies it out
    mel = target if target.is_contiguous() else target.new_empty(b, t, n_mels)
    mel_2d = mel.view(b * t, n_mels)
    for lo, hi, m0, m1, weights in blocks:
        if hi > lo:
            torch.mm(energy[:, lo:hi], weights, out=mel_2d[:, m0:m1])
        else:  # filters with no nonzero weight (more mels than the FFT resolves)
            mel_2d[:, m0:m1] = 0.0
    torch.log(mel.clamp_(min=log_floor), out=target)


def _filterbank_blocks(mel_fbank: torch.Tensor, n_groups: int, interleaved: bool) -> list[Block]:
    """The banded blocks of ``mel_fbank`` (n_freqs, F), cached per tensor and its version.

    Args:
        mel_fbank: The filterbank (n_freqs, F).
        n_groups: Number of runs of consecutive mel filters; each becomes one block.
        interleaved: Repeat each frequency row twice, to match :func:`_energy`'s ``Re^2, Im^2``.

    Returns:
        One :data:`Block` per group.
    """
    version = tensor_versions([mel_fbank])  # None for inference tensors: build the blocks every call
    cached = _BLOCKS.get(mel_fbank)
    if version is not None and cached is not None and cached[:3] == (version, n_groups, interleaved):
        return cached[3]
    scale = 2 if interleaved else 1
    rows = mel_fbank.repeat_interleave(2, dim=0) if interleaved else mel_fbank
    blocks = [
        (scale * lo, scale * hi, m0, m1, rows[scale * lo : scale * hi, m0:m1].contiguous())
        for lo, hi, m0, m1 in _mel_bands(mel_fbank, n_groups)
    ]
    if version is not None:
        _BLOCKS[mel_fbank] = (version, n_groups, interleaved, blocks)
    return blocks


def _mel_bands(mel_fbank: torch.Tensor, n_groups: int) -> list[tuple[int, int, int, int]]:
    """Split the F filters into ``n_groups`` runs with the frequency-bin range each run covers.

    Returns:
        ``(bin_lo, bin_hi, mel_lo, mel_hi)`` per group; the filterbank is zero outside
        ``[bin_lo, bin_hi) x [mel_lo, mel_hi)`` within those mel columns.
    """
    n_freqs, n_mels = mel_fbank.shape
    nonzero = mel_fbank.ne(0)  # (n_freqs, F)
    # first and last nonzero row of each filter (argmax returns the first maximum)
    first = nonzero.byte().argmax(dim=0).tolist()
    last = (n_freqs - 1 - nonzero.flip(0).byte().argmax(dim=0)).tolist()
    used = nonzero.any(dim=0).tolist()
    edges = [round(i * n_mels / n_groups) for i in range(n_groups + 1)]
    bands = []
    for m0, m1 in zip(edges[:-1], edges[1:], strict=True):
        if m1 <= m0:
            continue
        spans = [(first[m], last[m] + 1) for m in range(m0, m1) if used[m]]
        lo, hi = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else (0, 0)
        bands.append((lo, hi, m0, m1))
    return bands
