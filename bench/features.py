"""Benchmark speech.features.LogMel against librosa and raw torchaudio (ASR preset, 16 kHz).

Single-threaded (torch, numpy/BLAS and OpenMP are all limited to one thread) so the numbers are
comparable across machines. The runs are interleaved (ours, librosa, torchaudio, ours, ...) and
medians reported, which keeps slow drifts of a shared machine from favouring one contender.

    python bench/features.py [--rounds 15] [--clip-seconds 10] [--batch 16] [--out rows.json] [--quick]

A profile row per case too: our log-mel against the FFT alone (``torch.stft`` of the same
framing: n_fft, hop, periodic Hann window of ``win_length``, centred with zero padding), i.e. the
FFT's share of our time. ``--out`` writes the rows of ``bench/suite.py`` (JSON); ``--quick`` is a
smoke run (3 rounds of 1 s clips, batch 2). ``--floor`` adds, for the single clip, the least work
any log-mel of that clip does after the same FFT (see :func:`floor_contenders`).

glibc's malloc thresholds are pinned first (:func:`steady_malloc`): without that, whether a
round's 2 MB STFT buffers fault in fresh pages depends on the process's heap history: the FFT
alone of one 10 s clip took 0.6 ms in some runs and 1.2-1.8 ms in identical others.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402

from speech.features import LogMel, LogMelConfig  # noqa: E402
from speech.features.logmel import complex_stft  # noqa: E402
from speech.kernels import logmel as logmel_kernel  # noqa: E402
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


def floor_contenders(config: LogMelConfig, waveforms: torch.Tensor) -> dict[str, Callable[[], object]]:
    """The least work after the FFT, timed with ``--floor``.

    - ``stft + |X|^2``: the FFT and one in-place pass over its spectrum (squaring), the least any
      log-mel does after the FFT;
    - ``stft + |X|^2 + mel + log``: that, the kernel's banded mel matmuls and the log, without the
      Python around them (input checks, lengths, chunk loop, module call);
    - ``stft + |X|^2 + dense mel + log``: the reference maths in four ops (one dense matmul).

    Args:
        config: Front-end parameters.
        waveforms: (B, T) float32 clips, full length.

    Returns:
        Name to a function of no arguments (the FFT alone is ``make_contenders(...)["stft"]``).
    """
    window = torch.hann_window(config.win_length, periodic=True)
    mel_fbank = LogMel(config).mel_fbank
    n_blocks = -(-config.n_mels // logmel_kernel._MELS_PER_BLOCK)
    interleaved = config.power == 2.0
    blocks = logmel_kernel._filterbank_blocks(mel_fbank, n_blocks, interleaved)
    frames = config.num_frames(waveforms.shape[1])

    def stft() -> torch.Tensor:
        return complex_stft(waveforms, config, window)

    def run_square() -> torch.Tensor:
        with torch.inference_mode():
            return torch.view_as_real(stft()).square_()

    def run_core() -> torch.Tensor:
        with torch.inference_mode():
            out = waveforms.new_empty(waveforms.shape[0], frames, config.n_mels)
            energy = logmel_kernel._energy(waveforms, config, window, interleaved)
            logmel_kernel._log_mel_into(out, energy, blocks, config.log_floor)
            return out

    def run_dense() -> torch.Tensor:
        with torch.inference_mode():
            parts = torch.view_as_real(stft()).square_()
            return torch.log(
                torch.matmul(parts[..., 0] + parts[..., 1], mel_fbank).clamp_(min=config.log_floor)
            )

    return {
        "stft + |X|^2": run_square,
        "stft + |X|^2 + mel + log": run_core,
        "stft + |X|^2 + dense mel + log": run_dense,
    }


def steady_malloc() -> bool:
    """Pin glibc's malloc thresholds, so that no contender's time depends on the heap's history.

    glibc serves large blocks with mmap until freeing one raises its (dynamic) threshold, and it
    returns the heap's top to the OS past a trim threshold that follows. Which rounds then fault
    in fresh pages for their MB-sized buffers (about 1 us per 4 KB page on a VM) depends on what
    ran before in the process. Fixed thresholds (mmap from 32 MB, glibc's largest; trim from
    1 GB) keep freed memory in the process, as in a long-running server after its first calls.

    Returns:
        Whether the thresholds were set (False off glibc).
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))


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


def print_floor(config: LogMelConfig, waveforms: torch.Tensor, rounds: int) -> None:
    """Time :func:`floor_contenders` and our log-mel, interleaved; print each over the FFT alone."""
    main = make_contenders(config, waveforms)
    contenders = {"ours": main["ours"], **floor_contenders(config, waveforms), "stft": main["stft"]}
    t = time_interleaved(contenders, rounds)
    seconds = waveforms.shape[1] / config.sample_rate
    print(f"floor, 1 x {seconds:g} s: median time, median of per-round ratios to stft alone")
    for name, times in t.items():
        ratio = statistics.median(a / b for a, b in zip(times, t["stft"], strict=True))
        print(f"  {name:>32} | {statistics.median(times) * 1e3:6.2f} ms | {ratio:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--out", type=Path, help="write the rows of bench/suite.py here (JSON)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 rounds, 1 s clips, batch 2")
    parser.add_argument(
        "--floor", action="store_true", help="also time the least work after the FFT (1 clip)"
    )
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.clip_seconds, args.batch = 3, 1.0, 2
    pinned = steady_malloc()
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
        f"1 thread, {args.rounds} interleaved rounds, medians, "
        f"malloc thresholds {'pinned' if pinned else 'not pinned (not glibc)'}"
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
    if args.floor:
        print_floor(config, cases[f"1 x {args.clip_seconds:g} s"], args.rounds)
    timing.write_json(args.out, {"script": "bench/features.py", "rows": rows})


if __name__ == "__main__":
    main()
