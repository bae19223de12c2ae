from __future__ import annotations

import subprocess

import pytest

from data_prep import sysdeps
from speech.errors import SpeechError

NEEDS = {"flite": "flite", "espeak-ng": "espeak-ng", "/nonexistent/de-en": "trans-de-en"}


def _which(present: set[str]):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_missing_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysdeps.shutil, "which", _which({"flite"}))
    assert sysdeps.missing_packages(NEEDS) == ["espeak-ng", "trans-de-en"]
    assert sysdeps.missing_packages({"flite": "flite"}) == []


def test_not_root_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysdeps.shutil, "which", _which({"apt-get"}))
    monkeypatch.setattr(sysdeps.os, "geteuid", lambda: 1000)
    with pytest.raises(SpeechError) as error:
        sysdeps.ensure_debian_packages({"flite": "flite", "espeak-ng": "espeak-ng"})
    assert str(error.value) == (
        "missing Debian packages: flite espeak-ng; install them with: sudo apt-get install flite espeak-ng"
    )


def test_nothing_missing_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sysdeps.shutil, "which", _which({"flite"}))
    monkeypatch.setattr(sysdeps.subprocess, "run", pytest.fail)
    assert sysdeps.ensure_debian_packages({"flite": "flite"}) == []


def test_root_installs_with_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    present, commands = {"apt-get"}, []

    def fake_run(command, **kwargs):
        commands.append(command[1:])
        ok = command[1] == "update" or len(commands) > 1  # the first install fails: stale lists
        if ok and command[1] == "install":
            present.update(command[5:])
        return subprocess.CompletedProcess(command, 0 if ok else 100)

    monkeypatch.setattr(sysdeps.shutil, "which", _which(present))
    monkeypatch.setattr(sysdeps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(sysdeps.subprocess, "run", fake_run)
    assert sysdeps.ensure_debian_packages({"flite": "flite"}) == ["flite"]
    assert [c[0] for c in commands] == ["install", "update", "install"]
    assert commands[-1] == ["install", "-y", "-q", "--no-install-recommends", "flite"]


def test_main_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(sysdeps.shutil, "which", _which(set()))
    monkeypatch.setattr(sysdeps.os, "geteuid", lambda: 1000)
    assert sysdeps.main(["flite"]) == 1
    assert "flite" in capsys.readouterr().err
    assert sysdeps.main(["nosuch"]) == 1
    monkeypatch.setattr(sysdeps.shutil, "which", _which({"flite"}))
    assert sysdeps.main(["flite"]) == 0


def test_default_set_has_the_corpora_and_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(sysdeps, "ensure_debian_packages", lambda needs: asked.append(dict(needs)) or [])
    assert sysdeps.main([]) == 0
    packages = set(asked[0].values())
    assert {"flite", "espeak-ng", "festival", "trans-de-en", "chromium", "chromium-driver"} <= packages
    assert asked[0]["chromedriver"] == "chromium-driver" and asked[0]["chromium"] == "chromium"
    assert sysdeps.main(["chromium-driver"]) == 0
    assert asked[1] == {"chromedriver": "chromium-driver"}
