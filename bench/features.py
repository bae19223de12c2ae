"""Benchmark speech.features.LogMel against librosa and raw torchaudio (ASR preset, 16 kHz).

Single-threaded (torch, numpy/BLAS and OpenMP are all limited to one thread) so the numbers are
comparable across machines. The runs are interleaved (ours, librosa, torchaudio, ours, ...) and
medians reported, which keeps slow drifts of a shared machine from favouring one contender.

    python bench/features.py [--rounds 15] [--clip-seconds 10] [--batch 16] [--out rows.json] [--quick]

A profile row per case too: our log-mel against the FFT alone (``torch.stft`` of the same
framing: n_fft, hop, periodic Hann window of ``win_length``, centred with zero padding), i.e. the
FFT's share of our time. ``--out`` writes the rows of ``bench/suite.py`` (JSON); ``--quick`` is a
smoke run (3 rounds of 1 s clips, batch 2).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402

from speech.features import LogMel, LogMelConfig  # noqa: E402
from speech.kernels import use_inference_kernels  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timing  # noqa: E402


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

    window = torch.hann_window(config.win_length, periodic=True)

    def run_stft() -> torch.Tensor:  # the profile: the FFT of our framing, nothing else
        with torch.inference_mode():
            return torch.stft(
                waveforms,
                n_fft=config.n_fft,
                hop_length=config.hop_length,
                win_length=config.win_length,
                window=window,
                center=True,
                pad_mode="constant",
                return_complex=True,
            )

    return {"ours": run_ours, "librosa": run_librosa, "torchaudio": run_torchaudio, "stft": run_stft}


def time_interleaved(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, run in turn for ``rounds`` rounds (after a warm-up)."""
    return timing.interleaved(contenders, rounds)


def check_agreement(contenders: dict[str, Callable[[], np.ndarray]]) -> float:
    """Largest absolute difference between our features and librosa's and torchaudio's."""
    ours = contenders["ours"]()
    return max(float(np.abs(ours - contenders[name]()).max()) for name in ("librosa", "torchaudio"))


def suite_rows(name: str, times: dict[str, list[float]], command: str, diff: float) -> list[dict]:
    """The rows of ``bench/suite.py`` for one case: vs librosa, vs torchaudio, and the FFT's share."""
    ours = times["ours"]
    note = f"max |diff| {diff:.1e}"
    return [
        timing.row(f"log-mel {name}: vs librosa", ours, times["librosa"], "ms", "ours", "librosa",
                   command, note=note, scale=1e3),
        timing.row(f"log-mel {name}: vs raw torchaudio", ours, times["torchaudio"], "ms", "ours",
                   "torchaudio MelSpectrogram", command, note=note, scale=1e3),
        timing.row(f"log-mel {name}: profile, FFT alone", ours, times["stft"], "ms", "ours (log-mel)",
                   "torch.stft alone", command, scale=1e3,
                   ratio_means="FFT time / our log-mel time: the FFT's share of our time"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--out", type=Path, help="write the rows of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 rounds, 1 s clips, batch 2")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.clip_seconds, args.batch = 3, 1.0, 2
    timing.one_thread()
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
        f"{'librosa/ours':>12} | {'ours/torchaudio':>15} | {'FFT share':>9} | {'max |diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    command = timing.command_line("bench/features.py")
    rows = []
    for name, waveforms in cases.items():
        contenders = make_contenders(config, waveforms)
        diff = check_agreement(contenders)
        t = time_interleaved(contenders, args.rounds)
        ours, lib, raw, fft = (
            statistics.median(t[k]) * 1e3 for k in ("ours", "librosa", "torchaudio", "stft")
        )
        print(
            f"{name:>12} | {ours:8.2f} | {lib:10.2f} | {raw:13.2f} | "
            f"{lib / ours:11.2f}x | {ours / raw:15.2f} | {100 * fft / ours:8.0f}% | {diff:10.1e}"
        )
        rows += suite_rows(name.replace(" x ", " × "), t, command, diff)
    print("targets (batch): librosa/ours >= 8, ours/torchaudio <= 1.1")
    timing.write_json(args.out, {"script": "bench/features.py", "rows": rows})


if __name__ == "__main__":
    main()
