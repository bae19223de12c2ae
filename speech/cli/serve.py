"""``speech serve``: a local web app (page + JSON API) over ASR, TTS and ST checkpoints.

The checkpoints load (weights only) before the server starts, so a bad one is a one-line error
and exit code 2, as is a port that cannot be bound. The server binds to 127.0.0.1 unless told
otherwise; another address prints a one-line warning (there is no authentication). The API is
described in :mod:`speech.serve.app`; needs the ``serve`` extra.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

import torch

from speech.cli._args import add_device_option, add_threads_option, non_negative_int, positive_int
from speech.errors import SpeechError


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port, printed at start)."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be at most 65535, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    from speech.cli._args import finite_float

    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``speech serve``."""
    p = sub.add_parser(
        "serve",
        help="serve a local web app and JSON API over ASR, TTS and ST checkpoints",
        description="Serve a page (upload or record audio and read its transcript or translation; type "
        "text, hear it and see the attention alignment) and its JSON API: POST /api/transcribe, "
        "/api/translate (multipart field 'audio'), /api/synthesize (JSON {\"text\": ...}). One worker "
        "thread runs every model call, batching queued recordings; a full queue answers 503.",
    )
    p.add_argument("--asr", metavar="CKPT", help="ASR checkpoint for /api/transcribe")
    p.add_argument("--tts", metavar="CKPT", help="TTS checkpoint for /api/synthesize")
    p.add_argument("--st", metavar="CKPT", help="speech translation checkpoint for /api/translate")
    p.add_argument("--vocoder", metavar="CKPT", help="neural vocoder for --tts (default Griffin-Lim)")
    p.add_argument(
        "--griffin-lim-iters", type=non_negative_int, default=32, help="Griffin-Lim iterations (no --vocoder)"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; any but loopback prints a warning"
    )
    p.add_argument("--port", type=port, default=8000, help="TCP port (0: any free port)")
    add_device_option(p)
    add_threads_option(p)
    p.add_argument("--max-upload-mb", type=positive_float, default=10.0, help="largest upload in MB")
    p.add_argument("--max-audio-seconds", type=positive_float, default=30.0, help="longest recording")
    p.add_argument("--max-text-chars", type=positive_int, default=500, help="longest text to speak")
    p.add_argument("--queue-size", type=positive_int, default=64, help="requests waiting at most (then 503)")
    p.add_argument("--max-batch", type=positive_int, default=8, help="recordings decoded together")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the models, bind the port, serve until Ctrl-C."""
    if not (args.asr or args.tts or args.st):
        raise SpeechError("name at least one model: --asr, --tts or --st")
    import uvicorn

    from speech.serve import Limits, create_app, load_models

    limits = Limits(
        max_bytes=int(args.max_upload_mb * 1_000_000),
        max_seconds=args.max_audio_seconds,
        max_chars=args.max_text_chars,
        queue_size=args.queue_size,
        max_batch=args.max_batch,
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    models = load_models(args.asr, args.st, args.tts, args.vocoder, args.device, args.griffin_lim_iters)
    sock = _bind(args.host, args.port)
    if not _is_loopback(args.host):
        print(
            f"speech serve: warning: listening on {args.host}, reachable from other machines; "
            "there is no authentication",
            file=sys.stderr,
        )
    host, bound_port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    loaded = ", ".join(k for k in ("asr", "tts", "st") if getattr(models, k) is not None)
    print(f"speech serve: {loaded} on http://{url_host}:{bound_port}/ (Ctrl-C stops)", flush=True)
    config = uvicorn.Config(create_app(models, limits), log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        SpeechError: An unknown host, or an address that cannot be bound (in use, not ours).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise SpeechError(f"--host {host!r}: {e.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise SpeechError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
