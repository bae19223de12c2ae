"""System (Debian) packages that the built-in corpora need: check them and install what is missing.

The synthetic corpora call real programs: ``flite`` and ``espeak-ng`` speak the training voices,
``festival`` (``text2wave``, with the ``festvox-kdlpc16k`` voice) the held-out ones, and the Ding
dictionary (``/usr/share/trans/de-en``, Debian package ``trans-de-en``) supplies parallel text.
:func:`ensure_debian_packages` checks for each requirement (a command on ``PATH`` or an absolute
file path) and, when some are missing:

- running as root with ``apt-get`` available: installs them quietly with
  ``apt-get install -y --no-install-recommends`` (running ``apt-get update`` first when the
  package lists are stale and the install fails);
- otherwise: raises :class:`~speech.errors.SpeechError` with one line that says what to install.

The test suite also needs a browser: ``speech serve``'s page is tested in Debian's headless
``chromium`` driven through ``chromedriver`` (:data:`BROWSER`).

``python -m data_prep.sysdeps [PACKAGE ...]`` ensures the given packages (default: all of
:data:`REQUIREMENTS`, the corpora's and the browser) and exits 0 when they are present, 1
otherwise; the Makefile's set-up target calls it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from speech.errors import SpeechError

FLITE = {"flite": "flite"}
"""Requirement of the flite voices: command -> Debian package."""
ESPEAK = {"espeak-ng": "espeak-ng"}
"""Requirement of the espeak-ng voices."""
FESTIVAL = {
    "text2wave": "festival",
    "/usr/share/festival/voices/english/ked_diphone/festvox/ked_diphone.scm": "festvox-kdlpc16k",
}
"""Requirement of the default held-out festival voice (``festival:ked_diphone``)."""
DING_DICTIONARY = "/usr/share/trans/de-en"
"""The German-English Ding dictionary as Debian ships it."""
DING = {DING_DICTIONARY: "trans-de-en"}
"""Requirement of the ``ding`` corpus."""
CORPUS_REQUIREMENTS: dict[str, str] = {**FLITE, **ESPEAK, **FESTIVAL, **DING}
"""Everything the built-in corpora may need."""
BROWSER = {"chromium": "chromium", "chromedriver": "chromium-driver"}
"""The headless browser of the web app's test (``tests/serve/test_browser.py``, Selenium)."""
REQUIREMENTS: dict[str, str] = {**CORPUS_REQUIREMENTS, **BROWSER}
"""What ``python -m data_prep.sysdeps`` ensures by default: the corpora's needs and the browser."""

_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def missing_packages(requirements: Mapping[str, str]) -> list[str]:
    """Debian packages whose command or file is absent.

    Args:
        requirements: Maps a command name (looked up on ``PATH``) or an absolute file path to the
            Debian package that provides it.

    Returns:
        The missing packages, without duplicates, in the order given.
    """
    missing: list[str] = []
    for needed, package in requirements.items():
        present = Path(needed).is_file() if needed.startswith("/") else shutil.which(needed) is not None
        if not present and package not in missing:
            missing.append(package)
    return missing


def ensure_debian_packages(requirements: Mapping[str, str]) -> list[str]:
    """Make sure every requirement is present, installing missing Debian packages when root.

    Args:
        requirements: Command name or absolute file path -> Debian package.

    Returns:
        The packages that were installed (empty when nothing was missing).

    Raises:
        SpeechError: One line naming the missing packages and the command to install them, when
            not running as root or without ``apt-get``, or when the installation fails.
    """
    missing = missing_packages(requirements)
    if not missing:
        return []
    names = " ".join(missing)
    apt = shutil.which("apt-get")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if apt is None or not is_root:
        how = f"sudo apt-get install {names}"
        if apt is None:
            how = f"apt-get install {names} (or your system's equivalent)"
        raise SpeechError(f"missing Debian packages: {names}; install them with: {how}")
    print(f"installing Debian packages: {names}", file=sys.stderr)
    if not _apt_install(apt, missing):
        _run_quietly([apt, "update", "-q"])
        if not _apt_install(apt, missing):
            raise SpeechError(f"could not install Debian packages: {names}; try: apt-get install {names}")
    still = missing_packages(requirements)
    if still:
        raise SpeechError(f"Debian packages installed but still missing files: {' '.join(still)}")
    return missing


def _apt_install(apt: str, packages: Sequence[str]) -> bool:
    return _run_quietly([apt, "install", "-y", "-q", "--no-install-recommends", *packages])


def _run_quietly(command: Sequence[str]) -> bool:
    env = {**os.environ, **_APT_ENV}
    result = subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return result.returncode == 0


def main(argv: Sequence[str] | None = None) -> int:
    """Ensure the named Debian packages (default: all of :data:`REQUIREMENTS`); exit code 0 or 1."""
    wanted = list(sys.argv[1:] if argv is None else argv)
    requirements = {k: v for k, v in REQUIREMENTS.items() if not wanted or v in wanted}
    unknown = sorted(set(wanted) - set(REQUIREMENTS.values()))
    if unknown:
        print(f"data_prep.sysdeps: error: unknown packages: {' '.join(unknown)}", file=sys.stderr)
        return 1
    try:
        installed = ensure_debian_packages(requirements)
    except SpeechError as e:
        print(f"data_prep.sysdeps: error: {e}", file=sys.stderr)
        return 1
    done = f"installed {' '.join(installed)}" if installed else "all present"
    print(f"data_prep.sysdeps: {' '.join(requirements.values())}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
