"""Numbered, idempotent recipe stages: ``python -m speech.stages run N NAME [options] -- COMMAND...``.

A stage that finishes writes ``MARKERS/N-NAME.done`` holding a hash of its command, the
contents of its ``--inputs`` (files, or folders by name, size and mtime) and the stage
name; a rerun with the same hash is skipped, a changed command, config or input reruns it.
A stage is done only when its command exited 0 *and* every ``--outputs`` path exists; otherwise
it fails (exit code 1 when the command itself exited 0) and keeps its ``.started`` marker.
Before it runs, a stage deletes its ``--outputs`` so nothing partial survives, unless it
is ``--resumable`` and the interrupted run had the same hash (training then resumes from
its last checkpoint). The marker is written last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from speech.io import atomic_write


def input_hash(command: list[str], inputs: list[str], name: str) -> str:
    """SHA-256 over the command, the stage name and the inputs' contents."""
    h = hashlib.sha256()
    h.update(json.dumps([name, command]).encode())
    for item in inputs:
        path = Path(item)
        h.update(item.encode())
        if path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
        elif path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                stat = f.stat()
                h.update(f"{f.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            h.update(b"<missing>")
    return h.hexdigest()


def run_stage(
    number: int,
    name: str,
    command: list[str],
    inputs: list[str],
    outputs: list[str],
    markers: Path,
    resumable: bool = False,
) -> int:
    """Run one stage unless its marker matches.

    Returns:
        0 when done or skipped; the command's exit code when it failed; 1 when it exited 0
        without writing one of ``outputs`` (the ``.started`` marker is kept, so a resumable stage
        resumes on the next run).
    """
    digest = input_hash(command, inputs, name)
    key = f"{number}-" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    done, started = markers / f"{key}.done", markers / f"{key}.started"
    if done.is_file() and done.read_text().strip() == digest:
        print(f"stage {number} ({name}): up to date, skipped", flush=True)
        return 0
    resume = resumable and started.is_file() and started.read_text().strip() == digest
    done.unlink(missing_ok=True)
    if not resume:
        for out in outputs:
            _remove(Path(out))
    markers.mkdir(parents=True, exist_ok=True)
    with atomic_write(started) as f:
        f.write(digest + "\n")
    print(f"stage {number} ({name}){' resuming' if resume else ''}: {' '.join(command)}", flush=True)
    code = subprocess.call(command)
    if code != 0:
        print(f"stage {number} ({name}) failed with exit code {code}", file=sys.stderr)
        return code
    missing = [out for out in outputs if not Path(out).exists()]
    if missing:
        print(
            f"stage {number} ({name}) exited 0 but did not write its output {missing[0]}; not marked done",
            file=sys.stderr,
        )
        return 1
    with atomic_write(done) as f:
        f.write(digest + "\n")
    started.unlink(missing_ok=True)
    return 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point used by recipes' run.sh."""
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print(
            "usage: python -m speech.stages run N NAME [--inputs ...] [--outputs ...] --markers DIR -- CMD",
            file=sys.stderr,
        )
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m speech.stages")
    parser.add_argument("action", choices=["run"])
    parser.add_argument("number", type=int)
    parser.add_argument("name")
    parser.add_argument("--inputs", nargs="*", default=[])
    parser.add_argument("--outputs", nargs="*", default=[])
    parser.add_argument("--markers", required=True)
    parser.add_argument("--resumable", action="store_true")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    return run_stage(
        args.number, args.name, command, args.inputs, args.outputs, Path(args.markers), args.resumable
    )


if __name__ == "__main__":
    sys.exit(main())
