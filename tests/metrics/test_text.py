import jiwer
import pytest
import sacrebleu

from speech.errors import SpeechError
from speech.metrics import (
    error_rates,
    paired,
    read_id_text,
    scores_from_translation_stats,
    translation_scores,
    translation_stats,
)


def test_error_rates_match_jiwer_and_count_errors():
    refs = ["one two three", "four five"]
    hyps = ["one too three", "four five six"]
    rates = error_rates(refs, hyps)
    assert rates.wer == pytest.approx(jiwer.wer(refs, hyps))
    assert rates.cer == pytest.approx(jiwer.cer(refs, hyps))
    assert (rates.word_errors, rates.words, rates.sentences) == (2, 5, 2)


def test_error_rates_reject_mismatch_and_empty_references():
    with pytest.raises(ValueError):
        error_rates(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        error_rates(["", " "], ["a", "b"])


def test_translation_scores_match_sacrebleu():
    refs = ["le chat est sur le tapis", "il fait beau aujourd'hui"]
    hyps = ["le chat est sur le tapis", "il fait chaud aujourd'hui"]
    scores = translation_scores(refs, hyps)
    assert scores.bleu == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert scores.chrf == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert scores.exact_match == 0.5
    assert translation_scores(refs, refs).bleu == pytest.approx(100.0)


@pytest.mark.parametrize("split", [1, 2, 4])
def test_translation_statistics_add_up_over_parts_to_the_corpus_scores(split):
    """Validation sums them over batches and DDP ranks; the scores must be the whole corpus'."""
    refs = ["le chat est noir", "il fait beau", "trois cent deux", "bonjour", "a b c d e f"]
    hyps = ["le chat est blanc", "il fait beau", "trois cents deux", "", "a b c d f e"]
    total = None
    for i in range(0, len(refs), split):
        stats = translation_stats(refs[i : i + split], hyps[i : i + split])
        total = stats if total is None else [a + b for a, b in zip(total, stats, strict=True)]
    assert scores_from_translation_stats(total) == translation_scores(refs, hyps)
    with pytest.raises(ValueError, match="no sentences"):
        scores_from_translation_stats([0.0] * len(total))


def test_id_text_files(tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text("a\tone two\nb\tthree\n\n")
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("b\tthree\na\t\n")
    assert read_id_text(hyp) == {"b": "three", "a": ""}
    ids, refs, hyps = paired(ref, hyp)
    assert ids == ["a", "b"] and refs == ["one two", "three"] and hyps == ["", "three"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("a one\n", ":1: expected 'id<TAB>text'"),
        ("a\tx\na\ty\n", ":2: duplicate id 'a'"),
        ("\tx\n", ":1: empty id"),
        ("\n\n", "no 'id<TAB>text' lines"),
    ],
)
def test_bad_id_text_files(tmp_path, content, problem):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(SpeechError, match=problem):
        read_id_text(path)


def test_non_utf8_and_missing_ids(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("a\tcaf\xe9\n".encode("latin-1"))
    with pytest.raises(SpeechError, match="not UTF-8"):
        read_id_text(bad)
    ref, hyp = tmp_path / "r.txt", tmp_path / "h.txt"
    ref.write_text("a\tx\nb\ty\n")
    hyp.write_text("a\tx\n")
    with pytest.raises(SpeechError, match="1 reference ids have no hypothesis"):
        paired(ref, hyp)
    hyp.write_text("a\tx\nb\ty\nc\tz\n")
    with pytest.raises(SpeechError, match="not in the reference"):
        paired(ref, hyp)


def test_non_utf8_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"a\tfine\nb\tok\nc\tcaf\xe9\n")
    with pytest.raises(SpeechError, match=r"bad.txt:3: not UTF-8"):
        read_id_text(bad)


def test_missing_folder_and_bom(tmp_path):
    with pytest.raises(SpeechError, match="nope.txt: no such file"):
        read_id_text(tmp_path / "nope.txt")
    with pytest.raises(SpeechError, match="is a directory"):
        read_id_text(tmp_path)
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffa\tx\r\nb\ty\r\n".encode())
    assert read_id_text(bom) == {"a": "x", "b": "y"}


def test_stdin_for_one_side_only(tmp_path, monkeypatch):
    import io
    import sys

    ref = tmp_path / "ref.txt"
    ref.write_text("a\tone two\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a\tone too\n")))
    assert paired(ref, "-") == (["a"], ["one two"], ["one too"])
    with pytest.raises(SpeechError, match="only one of --ref and --hyp can be '-'"):
        paired("-", "-")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a one\n")))
    with pytest.raises(SpeechError, match=r"<stdin>:1: expected 'id<TAB>text'"):
        read_id_text("-")
