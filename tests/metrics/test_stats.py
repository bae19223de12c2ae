"""Statistics files read by ``speech score``: corrupt ones are one line naming the file."""

import pytest

from speech.errors import SpeechError
from speech.metrics.stats import DECODE_STATS, SYNTH_STATS, read_stats
from speech.metrics.tts import read_stats as read_synth_stats
from speech.metrics.tts import tts_results_markdown


def test_good_partial_and_absent_files(tmp_path):
    path = tmp_path / "hyp.stats.json"
    path.write_text('{"rtf": 0.25, "beam": 4, "threads": 2, "extra": "ignored", "utterances": null}')
    assert read_stats(path, DECODE_STATS) == {"rtf": 0.25, "beam": 4, "threads": 2}
    assert read_stats(tmp_path / "absent.json", DECODE_STATS) == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", ":1: not a statistics file (invalid JSON"),
        ('\n\n{"rtf": }', ":3: not a statistics file"),
        ("[1, 2]", "expected a JSON object of statistics, got list"),
        ('"text"', "got str"),
        ('{"rtf": "fast"}', "'rtf' must be a finite number, got 'fast'"),
        ('{"rtf": NaN}', "'rtf' must be a finite number"),
        ('{"rtf": Infinity}', "'rtf' must be a finite number"),
        ('{"rtf": true}', "'rtf' must be a finite number"),
        ('{"beam": 2.5}', "'beam' must be a non-negative integer"),
        ('{"threads": -1}', "'threads' must be a non-negative integer"),
        ('{"beam": [4]}', "'beam' must be a finite number"),
        ('{"rtf": ' + "9" * 400 + "}", "'rtf' must be a finite number"),
        ('{"rtf": ' + "9" * 5000 + "}", "not a statistics file"),
        ("[" * 100000, "not a statistics file"),
    ],
)
def test_corrupt_files_are_one_line_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "hyp.stats.json"
    path.write_text(content)
    with pytest.raises(SpeechError) as err:
        read_stats(path, DECODE_STATS)
    assert str(err.value).startswith(str(path)) and problem in str(err.value)
    assert "\n" not in str(err.value)


def test_unreadable_files(tmp_path):
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(SpeechError, match="dir.json: cannot read"):
        read_stats(tmp_path / "dir.json", DECODE_STATS)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"rtf": "\xe9"}')
    with pytest.raises(SpeechError, match="latin.json: not a statistics file"):
        read_stats(latin, DECODE_STATS)


def test_synthesis_statistics_with_missing_keys_still_make_a_report(tmp_path):
    path = tmp_path / "synth.stats.json"
    path.write_text('{"rtf": 0.5, "griffin_lim_iters": null}')
    stats = read_synth_stats(path)
    assert stats == {"rtf": 0.5} and set(stats) <= set(SYNTH_STATS)
    text = tts_results_markdown({}, stats, tmp_path, None)
    assert "| – | – | – | – | 0.5000 | – | – |" in text
    path.write_text('{"stop_rate": "all"}')
    with pytest.raises(SpeechError, match="synth.stats.json: 'stop_rate' must be a finite number"):
        read_synth_stats(path)
