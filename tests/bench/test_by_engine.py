"""bench/by_engine.py: WER by synthesizer engine."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("by_engine", ROOT / "bench" / "by_engine.py")
by_engine = importlib.util.module_from_spec(spec)
spec.loader.exec_module(by_engine)


def test_engine_names():
    assert [by_engine.engine(s) for s in ("slt", "flite:awb", "festival:ked_diphone", "en-us+m3")] == [
        "flite",
        "flite",
        "festival",
        "espeak-ng",
    ]


def test_wer_is_split_by_engine(tmp_path):
    manifest = tmp_path / "test.jsonl"
    lines = [("a", "slt", "One two."), ("b", "en-gb+f2", "three four"), ("c", "festival:ked_diphone", "five")]
    manifest.write_text(
        "".join(
            json.dumps(
                {"id": i, "audio": "x.wav", "duration": 1.0, "sample_rate": 16000, "text": t, "speaker": s}
            )
            + "\n"
            for i, s, t in lines
        )
    )
    folder = tmp_path / "decode_test"
    folder.mkdir()
    (folder / "ref.txt").write_text("a\tOne two.\nb\tthree four\nc\tfive\n")
    (folder / "hyp.txt").write_text("a\tone two\nb\tthree for\nc\tfive six\n")
    assert by_engine.by_engine(folder, manifest) == {
        "espeak-ng": (0.5, 1),
        "festival": (1.0, 1),
        "flite": (0.0, 1),
    }
