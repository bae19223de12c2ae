"""Export wrapper of the Vocos-style vocoder: the whole network, natural-log mels to waveforms.

ONNX has no complex tensors, so :class:`VocoderGraph` computes the generator's inverse STFT
with real matrices: the inverse real DFT of ``magnitude * exp(i phase)`` is
``(magnitude cos phase) @ C + (magnitude sin phase) @ S`` with fixed cosine and sine bases
(``C``, ``S`` of shape (n_freqs, n_fft)), and the overlap-add is a transposed convolution with
an identity kernel of stride ``hop_length``, as ``F.fold`` does it in the model. The results
equal :class:`~speech.models.vocoder.VocosGenerator`'s to float rounding (the tests bound it).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from speech.export.graph import Graph
from speech.models.vocoder import VocosGenerator


def irfft_bases(n_fft: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine and sine bases (n_fft // 2 + 1, n_fft) of ``torch.fft.irfft(x, n=n_fft)`` (real, imaginary).

    ``irfft`` reads only the real part of the first and (even ``n_fft``) the Nyquist bin and
    counts every other bin twice (Hermitian symmetry).
    """
    n_freqs = n_fft // 2 + 1
    k = torch.arange(n_freqs, dtype=torch.float64)[:, None]
    t = torch.arange(n_fft, dtype=torch.float64)[None, :]
    angle = 2 * math.pi * k * t / n_fft  # (K, N)
    weight = torch.full((n_freqs, 1), 2.0, dtype=torch.float64)
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    cos = weight * torch.cos(angle) / n_fft
    sin = -weight * torch.sin(angle) / n_fft
    sin[0] = 0.0
    if n_fft % 2 == 0:
        sin[-1] = 0.0
    return cos.float(), sin.float()


class VocoderGraph(nn.Module):
    """``log_mel`` (B, T, F), ``frame_lengths`` (B,) -> ``waveforms`` (B, (T - 1) hop), ``lengths`` (B,).

    The same layers as :meth:`VocosGenerator.forward <speech.models.vocoder.VocosGenerator.forward>`
    (whose input checks stay in Python) with a real-valued inverse STFT.

    Args:
        generator: The trained generator (its weights are shared, not copied).
    """

    def __init__(self, generator: VocosGenerator) -> None:
        super().__init__()
        self.generator = generator
        c = generator.features
        cos, sin = irfft_bases(c.n_fft)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.register_buffer("eye", torch.eye(c.n_fft)[:, None, :], persistent=False)  # (n_fft, 1, n_fft)

    def forward(
        self, log_mel: torch.Tensor, frame_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """See the class docstring."""
        g, c = self.generator, self.generator.features
        T = log_mel.shape[1]
        mask = (torch.arange(T)[None, :] < frame_lengths[:, None]).to(log_mel.dtype)  # (B, T)
        x = g.embed((log_mel * mask[..., None]).transpose(1, 2)).transpose(1, 2)
        x = g.norm(x)
        for block in g.blocks:
            x = block(x, mask[..., None])
        spec = g.head(g.final_norm(x))  # (B, T, 2 K)
        n_freqs, hop = c.n_freqs, c.hop_length
        magnitude = spec[..., :n_freqs].clamp(max=g.config.max_log_magnitude).exp()
        phase = spec[..., n_freqs:]
        frames = (magnitude * phase.cos()) @ self.cos + (magnitude * phase.sin()) @ self.sin  # (B, T, n_fft)
        window = g.window
        frames = frames * window * mask[..., None]
        out = F.conv_transpose1d(frames.transpose(1, 2), self.eye, stride=hop)  # (B, 1, (T - 1) hop + n_fft)
        square = window.square()[None, :, None] * mask[:, None, :]  # (B, n_fft, T)
        envelope = F.conv_transpose1d(square, self.eye, stride=hop)
        start, n = c.n_fft // 2, (T - 1) * hop
        waveforms = out[:, 0, start : start + n] / envelope[:, 0, start : start + n].clamp(min=1e-8)
        lengths = (frame_lengths - 1).clamp(min=0) * hop
        valid = torch.arange(n)[None, :] < lengths[:, None]
        return waveforms * valid.to(waveforms.dtype), lengths


def vocoder_graphs(generator: VocosGenerator) -> list[Graph]:
    """The whole vocoder as one graph, with example inputs."""
    generator = generator.eval()
    log_mel = torch.randn(2, 23, generator.config.n_mels, generator=torch.Generator().manual_seed(0)) - 4.0
    axes = {
        "log_mel": {0: "batch", 1: "frames"},
        "frame_lengths": {0: "batch"},
        "waveforms": {0: "batch", 1: "samples"},
        "lengths": {0: "batch"},
    }
    return [
        Graph(
            "vocoder",
            VocoderGraph(generator).eval(),
            (log_mel, torch.tensor([23, 15])),
            ["log_mel", "frame_lengths"],
            ["waveforms", "lengths"],
            axes,
        )
    ]
