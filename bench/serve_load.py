"""Load test of ``speech serve``: N concurrent requests per endpoint; all must be answered 200.

Usage:
  python bench/serve_load.py --url http://127.0.0.1:8000 [--endpoint transcribe ...]
         [--audio A.wav ... | --manifest test.jsonl] [--text "..."] [--requests 50] [--out results.json]
  python bench/serve_load.py --asr CKPT [--tts CKPT [--vocoder CKPT]] [--st CKPT] [--threads 1]
         [--max-batch 8] ... (starts its own ``speech serve`` on a free localhost port, stops it at the end)

For each endpoint (default: every one whose model the server has loaded) ``--requests`` client
threads are released at once (a barrier), each sending one request on its own connection:
``/api/transcribe`` and ``/api/translate`` upload a recording (the ``--audio`` files or the
``--manifest``'s, cycled), ``/api/synthesize`` posts a text (``--text``, or the manifest's texts).
One warm-up request per endpoint goes first (not with ``--quick``). Latency is from the barrier to
the full response; p50/p95 are nearest-rank percentiles. A request is *lost* when it gets no HTTP
answer at all (connection error, timeout). The exit code is 0 only when every request got 200.
``--quick`` is a smoke run: 1-second noise recordings when no audio is named, no warm-up.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

ENDPOINTS = {"transcribe": "asr", "translate": "st", "synthesize": "tts"}
DEFAULT_TEXT = "one hundred and twenty three"


@contextlib.contextmanager
def start_server(models: dict[str, str], threads: int = 1, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """Run ``speech serve`` with ``models`` (``{"asr": path, ...}``) on a free port; yields its URL.

    ``extra`` are more options of ``speech serve`` (e.g. ``("--max-batch", "1")``).
    """
    argv = [sys.executable, "-m", "speech", "serve", "--port", "0", "--threads", str(threads), *extra]
    for kind, path in models.items():
        argv += [f"--{kind}", str(path)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
        try:
            yield _wait_for_url(proc, stderr)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_url(proc: subprocess.Popen, stderr, timeout: float = 180.0) -> str:
    """The URL that ``speech serve`` prints once its models are loaded and its port bound."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        line = proc.stdout.readline() if ready else ""
        if "http://" in line:
            return line[line.index("http://") :].split()[0].rstrip("/")
        if proc.poll() is not None:
            stderr.seek(0)
            raise RuntimeError(f"speech serve exited {proc.returncode}: {stderr.read().decode()[-2000:]}")
    raise RuntimeError(f"speech serve printed no URL in {timeout:.0f} s")


def noise_wav(seconds: float = 1.0, rate: int = 16000, seed: int = 0) -> bytes:
    """A WAV of quiet noise."""
    buf = io.BytesIO()
    samples = np.random.default_rng(seed).uniform(-0.3, 0.3, int(seconds * rate)).astype(np.float32)
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in (0, 100])."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _request(client: httpx.Client, url: str, endpoint: str, item: tuple[str, bytes] | str) -> httpx.Response:
    if endpoint == "synthesize":
        return client.post(f"{url}/api/synthesize", json={"text": item})
    name, data = item
    return client.post(f"{url}/api/{endpoint}", files={"audio": (name, data, "application/octet-stream")})


def run_round(url: str, endpoint: str, items: list, requests: int, timeout: float) -> dict:
    """``requests`` concurrent requests released together; statuses and latencies."""
    barrier = threading.Barrier(requests + 1)
    results: list[tuple[int | None, float, str]] = [(None, 0.0, "")] * requests
    start = [0.0]

    def client_thread(i: int) -> None:
        with httpx.Client(timeout=timeout) as client:
            barrier.wait()
            try:
                response = _request(client, url, endpoint, items[i % len(items)])
                error = "" if response.status_code == 200 else response.text[:200]
                results[i] = (response.status_code, time.perf_counter() - start[0], error)
            except httpx.HTTPError as e:
                results[i] = (None, time.perf_counter() - start[0], f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=client_thread, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    start[0] = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start[0]
    latencies = [latency for status, latency, _ in results if status == 200]
    statuses = Counter(str(status) for status, _, _ in results if status is not None)
    return {
        "endpoint": endpoint,
        "requests": requests,
        "ok": len(latencies),
        "statuses": dict(statuses),
        "lost": sum(status is None for status, _, _ in results),
        "errors": sorted({error for _, _, error in results if error})[:5],
        "p50_s": percentile(latencies, 50) if latencies else None,
        "p95_s": percentile(latencies, 95) if latencies else None,
        "max_s": max(latencies) if latencies else None,
        "wall_s": wall,
        "requests_per_s": requests / wall,
    }


def _inputs(args: argparse.Namespace) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Recordings (name, bytes) and texts to send."""
    audio, texts = [], list(args.text or [])
    if args.manifest:
        folder = Path(args.manifest).parent
        with open(args.manifest, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()][: args.requests]
        audio = [(Path(r["audio"]).name, (folder / r["audio"]).read_bytes()) for r in records]
        texts = texts or [r["text"] for r in records]
    audio += [(Path(p).name, Path(p).read_bytes()) for p in args.audio or []]
    if not audio:
        audio = [(f"noise{i}.wav", noise_wav(1.0, seed=i)) for i in range(4)]
    return audio, texts or [DEFAULT_TEXT]


def run_all(args: argparse.Namespace, url: str) -> dict:
    """Every endpoint's round against the server at ``url``."""
    info = httpx.get(f"{url}/api/info", timeout=30).json()
    endpoints = args.endpoint or [e for e, kind in ENDPOINTS.items() if info["models"][kind]]
    audio, texts = _inputs(args)
    rounds = []
    for endpoint in endpoints:
        items = texts if endpoint == "synthesize" else audio
        if not args.quick:  # warm-up: first-call allocations are not the latency under load
            with httpx.Client(timeout=args.timeout) as client:
                _request(client, url, endpoint, items[0]).raise_for_status()
        result = run_round(url, endpoint, items, args.requests, args.timeout)
        rounds.append(result)
        p50, p95 = result["p50_s"], result["p95_s"]
        figures = f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {result['max_s']:.3f} s, " if p50 else ""
        print(
            f"{endpoint}: {result['ok']}/{result['requests']} answered 200, {result['lost']} lost; "
            f"{figures}wall {result['wall_s']:.2f} s ({result['requests_per_s']:.1f} requests/s)"
            + (f"; errors: {result['errors']}" if result["errors"] else ""),
            flush=True,
        )
    return {"url": url, "server": info, "cpus": os.cpu_count(), "rounds": rounds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running server (default: start one with the models named)")
    for kind in ("asr", "tts", "st", "vocoder"):
        p.add_argument(f"--{kind}", metavar="CKPT", help=f"{kind} checkpoint of the server started here")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the server started here")
    p.add_argument("--max-batch", type=int, help="the server started here: recordings decoded together")
    p.add_argument("--endpoint", action="append", choices=sorted(ENDPOINTS), help="repeatable")
    p.add_argument("--audio", nargs="+", help="recordings to upload (cycled)")
    p.add_argument("--manifest", help="a manifest whose first --requests recordings and texts are sent")
    p.add_argument("--text", action="append", help="text(s) to synthesize")
    p.add_argument("--requests", type=int, default=50, help="concurrent requests per endpoint")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds a client waits for an answer")
    p.add_argument("--quick", action="store_true", help="smoke run: noise recordings, no warm-up")
    p.add_argument("--out", help="write the results as JSON")
    args = p.parse_args(argv)
    models = {k: getattr(args, k) for k in ("asr", "tts", "st", "vocoder") if getattr(args, k)}
    if args.url and (models or args.max_batch):
        p.error("--url or model checkpoints (and --max-batch), not both")
    if not args.url and not models:
        p.error("name --url or at least one of --asr, --tts, --st")
    with contextlib.ExitStack() as stack:
        extra = ("--max-batch", str(args.max_batch)) if args.max_batch else ()
        server = None if args.url else start_server(models, args.threads, extra)
        url = args.url.rstrip("/") if args.url else stack.enter_context(server)
        results = run_all(args, url)
    results["command"] = " ".join(["python", "bench/serve_load.py", *(argv or sys.argv[1:])])
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    everything = all(r["ok"] == r["requests"] for r in results["rounds"])
    return 0 if everything and results["rounds"] else 1


if __name__ == "__main__":
    sys.exit(main())
