"""Argument types and options every ``speech`` subcommand shares.

Each type rejects a bad value with argparse's one-line usage error (exit code 2), so NaN,
infinities, negative counts and unknown devices never reach torch.
"""

from __future__ import annotations

import argparse
import math

DEVICE_HELP = "auto (CUDA when there is one, else CPU), cpu, cuda or cuda:N"


def finite_float(text: str) -> float:
    """A finite float (no NaN, no infinity)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite float of at least 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def probability(text: str) -> float:
    """A finite float in [0, 1]."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def device(text: str) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (whether CUDA is present is checked at use)."""
    name = text.strip().lower()
    if name in ("auto", "cpu", "cuda"):
        return name
    if name.startswith("cuda:") and name[5:].isdigit():
        return name
    raise argparse.ArgumentTypeError(f"unknown device {text!r} (expected {DEVICE_HELP})")


def add_device_option(p: argparse.ArgumentParser, default: str = "auto") -> None:
    """``--device`` with the shared type and help."""
    p.add_argument("--device", type=device, default=default, help=DEVICE_HELP)


def add_threads_option(p: argparse.ArgumentParser) -> None:
    """``--threads``: torch CPU threads, 0 leaves torch's default."""
    p.add_argument(
        "--threads", type=non_negative_int, default=0, help="torch CPU threads (0 = torch's default)"
    )


def add_output_options(p: argparse.ArgumentParser, json_help: str = "print results as JSON lines") -> None:
    """``--quiet`` (no progress bars or summaries on stderr) and ``--json``."""
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--quiet", action="store_true", help="no progress bars or summaries on stderr")


def add_set_option(p: argparse.ArgumentParser, help: str = "config overrides, values parsed as YAML") -> None:
    """``--set KEY=VALUE ...``: config overrides (repeatable), collected in ``overrides``."""
    p.add_argument(
        "--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help=help
    )
