"""Benchmark speech.features.LogMel against librosa and raw torchaudio (ASR preset, 16 kHz).

Single-threaded (torch, numpy/BLAS and OpenMP are all limited to one thread) so the numbers are
comparable across machines. The runs are interleaved (ours, librosa, torchaudio, ours, ...) and
medians reported, which keeps slow drifts of a shared machine from favouring one contender.

    python bench/features.py [--rounds 15] [--clip-seconds 10] [--batch 16]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402

from speech.features import LogMel, LogMelConfig  # noqa: E402
from speech.kernels import use_inference_kernels  # noqa: E402


def make_contenders(config: LogMelConfig, waveforms: torch.Tensor) -> dict[str, Callable[[], np.ndarray]]:
    lengths = torch.full((waveforms.shape[0],), waveforms.shape[1], dtype=torch.long)
    ours = use_inference_kernels(LogMel(config), "cpu")  # the CPU kernel, as inference builds it
    numpy_waves = waveforms.numpy()
    raw = torchaudio.transforms.MelSpectrogram(
        sample_rate=config.sample_rate,
        n_fft=config.n_fft,
        win_length=config.win_length,
        hop_length=config.hop_length,
        f_min=config.f_min,
        f_max=config.max_frequency,
        n_mels=config.n_mels,
        power=config.power,
        center=True,
        pad_mode="constant",
        norm="slaney",
        mel_scale="slaney",
    )

    def run_ours() -> np.ndarray:
        with torch.inference_mode():
            return ours(waveforms, lengths).features.numpy()

    def run_librosa() -> np.ndarray:
        mel = librosa.feature.melspectrogram(
            y=numpy_waves,
            sr=config.sample_rate,
            n_fft=config.n_fft,
            hop_length=config.hop_length,
            win_length=config.win_length,
            power=config.power,
            n_mels=config.n_mels,
            fmin=config.f_min,
            fmax=config.max_frequency,
            center=True,
            pad_mode="constant",
            htk=False,
            norm="slaney",
        )  # (B, F, T)
        return np.log(np.maximum(mel, config.log_floor)).transpose(0, 2, 1)

    def run_torchaudio() -> np.ndarray:
        with torch.inference_mode():
            mel = raw(waveforms).clamp(min=config.log_floor).log()  # (B, F, T)
            return mel.transpose(1, 2).numpy()

    return {"ours": run_ours, "librosa": run_librosa, "torchaudio": run_torchaudio}


def time_interleaved(contenders: dict[str, Callable[[], np.ndarray]], rounds: int) -> dict[str, float]:
    """Median seconds per call, running the contenders in turn for ``rounds`` rounds (after a warm-up)."""
    for fn in contenders.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def check_agreement(contenders: dict[str, Callable[[], np.ndarray]]) -> float:
    """Largest absolute difference between our features and the other two."""
    ours = contenders["ours"]()
    return max(float(np.abs(ours - contenders[name]()).max()) for name in ("librosa", "torchaudio"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = LogMelConfig.asr()
    n = int(args.clip_seconds * config.sample_rate)
    generator = torch.Generator().manual_seed(0)
    cases = {
        f"1 x {args.clip_seconds:g} s": 0.1 * torch.randn(1, n, generator=generator),
        f"{args.batch} x {args.clip_seconds:g} s": 0.1 * torch.randn(args.batch, n, generator=generator),
    }
    print(
        f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, librosa {librosa.__version__}, "
        f"1 thread, {args.rounds} interleaved rounds, medians"
    )
    header = (
        f"{'case':>12} | {'ours ms':>8} | {'librosa ms':>10} | {'torchaudio ms':>13} | "
        f"{'librosa/ours':>12} | {'ours/torchaudio':>15} | {'max |diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, waveforms in cases.items():
        contenders = make_contenders(config, waveforms)
        diff = check_agreement(contenders)
        t = time_interleaved(contenders, args.rounds)
        ours, lib, raw = (t[k] * 1e3 for k in ("ours", "librosa", "torchaudio"))
        print(
            f"{name:>12} | {ours:8.2f} | {lib:10.2f} | {raw:13.2f} | "
            f"{lib / ours:11.2f}x | {ours / raw:15.2f} | {diff:10.1e}"
        )
    print("targets (batch): librosa/ours >= 8, ours/torchaudio <= 1.1")


if __name__ == "__main__":
    main()
