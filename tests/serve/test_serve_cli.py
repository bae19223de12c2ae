"""``speech serve``: bad models, options and ports are one line and exit 2; a warning off loopback."""

from __future__ import annotations

import socket

import pytest

from speech.cli.main import main


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["serve", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "argv, message",
    [
        ((), "name at least one model"),
        (("--vocoder", "v.ckpt", "--asr", "{asr}"), "--vocoder goes with --tts"),
        (("--asr", "{bad}"), "bad.ckpt"),
        (("--asr", "{tts}"), "tts.ckpt"),  # another task's checkpoint
        (("--tts", "missing.ckpt"), "missing.ckpt"),
    ],
)
def test_bad_models_are_one_line_exit_2(capsys, tmp_path, checkpoints, argv, message):
    bad = tmp_path / "bad.ckpt"
    bad.write_text("not a checkpoint")
    paths = {"asr": checkpoints["asr"], "tts": checkpoints["tts"], "bad": bad}
    code, _, err = _run(capsys, *(a.format(**paths) for a in argv))
    assert code == 2
    assert err.startswith("speech serve: error: ") and message in err and err.count("\n") == 1


def test_a_port_in_use_is_one_line_exit_2(capsys, checkpoints):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = _run(capsys, "--asr", str(checkpoints["asr"]), "--port", str(port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1


def test_port_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--asr", "x.ckpt", "--port", "70000"])
    assert exit_.value.code == 2 and "at most 65535" in capsys.readouterr().err


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True)])
def test_only_loopback_goes_without_a_warning(capsys, monkeypatch, checkpoints, host, warned):
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: served.append(sockets[0].getsockname()))
    code, out, err = _run(capsys, "--asr", str(checkpoints["asr"]), "--host", host, "--port", "0")
    assert code == 0 and len(served) == 1
    assert out.startswith("speech serve: asr on http://") and f":{served[0][1]}/" in out
    assert ("warning: listening on 0.0.0.0" in err) == warned
