"""bench/suite.py --quick: every benchmark runs and the one table has every row with real numbers."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_suite", ROOT / "bench" / "suite.py")
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)

NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"
# --quick builds tiny models where the mini recipes' checkpoints are missing, so no row is skipped,
# except the pocketsphinx comparison on a machine without pocketsphinx
MAY_SKIP = () if importlib.util.find_spec("pocketsphinx") else ("ASR decoding RTF",)


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_quick_suite_reports_every_row(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| benchmark |"))
    assert cells(lines[header]) == ["benchmark", "ours", "peer", "ratio", "quartiles", "command"]
    rows = [cells(line) for line in lines[header + 2 :] if line.startswith("| ")]
    names = [r[0] for r in rows]
    for benchmark, expected in suite.EXPECTED.items():
        for substring, count in expected:
            assert sum(substring in n for n in names) == count, (benchmark, substring, names)
    assert len(rows) == sum(c for expected in suite.EXPECTED.values() for _, c in expected)
    for r in rows:
        assert r[5].startswith("`OMP_NUM_THREADS=1 python bench/") and "--quick" in r[5], r
        assert "--out" not in r[5], r
        if r[1].startswith("skipped"):
            assert any(s in r[0] for s in MAY_SKIP), r  # the quick run builds tiny models instead
            continue
        assert not r[1].startswith("FAILED"), r
        ours = float(re.search(r": " + NUMBER, r[1]).group(1))
        peer = float(re.search(r": " + NUMBER, r[2]).group(1))
        ratio = float(r[3])
        q1, q3 = (float(x) for x in re.match(NUMBER + "-" + NUMBER, r[4]).groups())
        for x in (ours, peer, ratio, q1, q3):
            assert math.isfinite(x) and x > 0, r
        assert q1 <= ratio <= q3, r
    # the numbers are measured, not written down: the rows differ from each other
    assert len({r[1] for r in rows}) > len(rows) // 2


def test_rows_are_medians_of_per_round_ratios():
    timing_spec = importlib.util.spec_from_file_location("bench_timing", ROOT / "bench" / "timing.py")
    timing = importlib.util.module_from_spec(timing_spec)
    timing_spec.loader.exec_module(timing)
    row = timing.row("x", [1.0, 2.0, 4.0], [2.0, 2.0, 2.0], "s", "a", "b", "cmd")
    assert row["ratio"] == 1.0 and row["q1"] == 0.75 and row["q3"] == 1.5
    assert row["ours"] == 2.0 and row["peer"] == 2.0 and row["rounds"] == 3
    assert timing.command_line("bench/x.py", ["--quick", "--out", "a.json"]).endswith("bench/x.py --quick")
    json.dumps(row)
