"""Builders of tiny corpus trees laid out exactly as the real downloads unpack.

Each ``make_<corpus>(root, ...)`` writes short generated audio (a sine plus noise, a fraction of
a second) in the corpus's real formats and file names, with the index files the data_prep
scripts read, and returns the folder to pass as ``--corpus-dir``. Recipe tests reuse them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

SENTENCES = (
    "the cat sat on the mat",
    "a quick brown fox jumps over the lazy dog",
    "she sells sea shells by the sea shore",
    "how much wood would a woodchuck chuck",
    "the rain in spain stays mainly in the plain",
    "peter piper picked a peck of pickled peppers",
    "all that glitters is not gold",
    "a stitch in time saves nine",
)
GERMAN = (
    "die katze sass auf der matte",
    "ein schneller brauner fuchs springt über den faulen hund",
    "sie verkauft muscheln am meer",
    "wie viel holz würde ein murmeltier hacken",
    "der regen in spanien fällt meist in der ebene",
    "peter piper pflückte eingelegte paprika",
    "es ist nicht alles gold was glänzt",
    "ein stich zur rechten zeit spart neun",
)


def sentence(index: int) -> str:
    """The ``index``-th fixture sentence (cycling)."""
    return SENTENCES[index % len(SENTENCES)]


def tone(seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """A mono float32 sine (frequency set by ``seed``) plus a little noise, shape (T,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(max(1, round(seconds * sample_rate))) / sample_rate
    wave = 0.3 * np.sin(2 * np.pi * (150 + 37 * (seed % 20)) * t) + 0.02 * rng.standard_normal(t.shape)
    return wave.astype(np.float32)


def write_audio(path: Path, seconds: float, sample_rate: int, seed: int = 0) -> Path:
    """Write a tone in the format of ``path``'s suffix (wav, flac, mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").upper()
    subtype = "MPEG_LAYER_III" if fmt == "MP3" else "PCM_16"
    sf.write(str(path), tone(seconds, sample_rate, seed), sample_rate, format=fmt, subtype=subtype)
    return path


def mp3_supported() -> bool:
    """Whether this soundfile can write (and so read) mp3."""
    return "MP3" in sf.available_formats()


def make_librispeech(
    root: Path,
    subsets: tuple[str, ...] = ("train-clean-100", "dev-clean", "test-clean", "test-other"),
    speakers: int = 2,
    utterances: int = 3,
    seconds: float = 0.3,
) -> Path:
    """``root/LibriSpeech/<subset>/<spk>/<chapter>/*.flac`` + ``*.trans.txt`` (one chapter a speaker).

    Speaker ids differ per subset (subset index * 100 + n); texts are upper case like the corpus.
    """
    base = root / "LibriSpeech"
    for s, subset in enumerate(subsets):
        for k in range(speakers):
            speaker, chapter = str(100 * (s + 1) + k), str(1000 + k)
            folder = base / subset / speaker / chapter
            lines = []
            for u in range(utterances):
                utt_id = f"{speaker}-{chapter}-{u:04d}"
                write_audio(folder / f"{utt_id}.flac", seconds + 0.05 * u, 16000, seed=s * 31 + k * 7 + u)
                lines.append(f"{utt_id} {sentence(s + k + u).upper()}")
            (folder / f"{speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return base


def make_ljspeech(root: Path, utterances: int = 10, seconds: float = 0.3, sample_rate: int = 22050) -> Path:
    """``root/LJSpeech-1.1/{metadata.csv, wavs/LJ001-NNNN.wav}`` (id|raw|normalized, no header)."""
    base = root / "LJSpeech-1.1"
    lines = []
    for u in range(utterances):
        utt_id = f"LJ001-{u + 1:04d}"
        write_audio(base / "wavs" / f"{utt_id}.wav", seconds + 0.02 * u, sample_rate, seed=u)
        raw = f"In {1900 + u}, {sentence(u).capitalize()}."
        normalized = f"In nineteen hundred {u}, {sentence(u).capitalize()}."
        lines.append(f"{utt_id}|{raw}|{normalized}")
    (base / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return base


def make_vctk(
    root: Path,
    speakers: tuple[str, ...] = ("p225", "p226", "p315"),
    utterances: int = 4,
    seconds: float = 0.3,
    mics: tuple[str, ...] = ("mic1", "mic2"),
) -> Path:
    """``root/VCTK-Corpus-0.92/{wav48_silence_trimmed/<spk>/<spk>_NNN_micK.flac, txt/<spk>/<spk>_NNN.txt}``.

    As in the real corpus, ``p315`` has audio but no ``txt/`` folder; ``speaker-info.txt`` and
    ``wav48_silence_trimmed/log.txt`` sit beside the folders.
    """
    base = root / "VCTK-Corpus-0.92"
    (base / "wav48_silence_trimmed").mkdir(parents=True, exist_ok=True)
    (base / "wav48_silence_trimmed" / "log.txt").write_text("trimmed with a VAD\n")
    (base / "speaker-info.txt").write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\n"
        + "".join(f"{s[1:]}  23  F    English    Southern England\n" for s in speakers)
    )
    for k, speaker in enumerate(speakers):
        for u in range(1, utterances + 1):
            name = f"{speaker}_{u:03d}"
            for m, mic in enumerate(mics):
                write_audio(
                    base / "wav48_silence_trimmed" / speaker / f"{name}_{mic}.flac",
                    seconds + 0.02 * u,
                    48000,
                    seed=k * 11 + u + m,
                )
            if speaker != "p315":
                text = base / "txt" / speaker / f"{name}.txt"
                text.parent.mkdir(parents=True, exist_ok=True)
                text.write_text(sentence(k + u).capitalize() + ".\n")
    return base


CV_COLUMNS = (
    "client_id",
    "path",
    "sentence_id",
    "sentence",
    "sentence_domain",
    "up_votes",
    "down_votes",
    "age",
    "gender",
    "accents",
    "variant",
    "locale",
    "segment",
)


def make_commonvoice(
    root: Path,
    lang: str = "en",
    splits: dict[str, int] | None = None,
    seconds: float = 0.4,
    sample_rate: int = 48000,
) -> Path:
    """``root/cv-corpus/<lang>/{train,dev,test,validated}.tsv`` + ``clips/common_voice_<lang>_N.mp3``.

    ``validated.tsv`` holds every clip of the three splits. Returns ``root/cv-corpus``.
    """
    splits = splits or {"train": 4, "dev": 2, "test": 2}
    base = root / "cv-corpus"
    folder = base / lang
    rows: dict[str, list[list[str]]] = {}
    n = 0
    for split, count in splits.items():
        rows[split] = []
        for _ in range(count):
            n += 1
            clip = f"common_voice_{lang}_{1000 + n}.mp3"
            write_audio(folder / "clips" / clip, seconds + 0.03 * n, sample_rate, seed=n)
            client = f"{n % 3:064x}"
            rows[split].append(
                [
                    client,
                    clip,
                    f"{n:064x}",
                    sentence(n).capitalize() + ".",
                    "",
                    "2",
                    "0",
                    "twenties",
                    "",
                    "",
                    "",
                    lang,
                    "",
                ]
            )
    rows["validated"] = [r for split in splits for r in rows[split]]
    for name, table in rows.items():
        write_tsv(folder / f"{name}.tsv", CV_COLUMNS, table)
    return base


def write_tsv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    """A tab-separated file with a header line, unquoted (as Common Voice and CoVoST write them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def make_covost2(root: Path, src: str = "fr", tgt: str = "en", splits: dict[str, int] | None = None) -> Path:
    """A Common Voice ``<src>`` tree plus ``covost_v2.<src>_<tgt>.tsv`` beside it; returns the CV root.

    The CoVoST table has the columns of the released file (path, sentence, translation,
    client_id, split); its train rows are split between ``train`` and ``train_covost``.
    """
    base = make_commonvoice(root, src, splits)
    validated = (base / src / "validated.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = []
    splits = splits or {"train": 4, "dev": 2, "test": 2}
    names = [split for split, count in splits.items() for _ in range(count)]
    for index, (line, split) in enumerate(zip(validated, names, strict=True)):
        fields = line.split("\t")
        label = "train_covost" if split == "train" and index % 2 else split
        rows.append([fields[1], fields[3], GERMAN[index % len(GERMAN)].capitalize() + ".", fields[0], label])
    write_tsv(
        base / f"covost_v2.{src}_{tgt}.tsv", ("path", "sentence", "translation", "client_id", "split"), rows
    )
    return base


def make_mustc(
    root: Path,
    pair: str = "en-de",
    splits: tuple[str, ...] = ("train", "dev", "tst-COMMON"),
    talks: int = 2,
    segments: int = 3,
    seconds: float = 0.4,
) -> Path:
    """``root/<pair>/data/<split>/{wav/ted_N.wav, txt/<split>.{yaml,en,<tgt>}}``; returns ``root``.

    Each talk is a 16 kHz wav; its segments start at 0.1 s and follow each other with a 0.05 s gap.
    """
    tgt = pair.split("-")[1]
    for s, split in enumerate(splits):
        folder = root / pair / "data" / split
        entries, english, target = [], [], []
        for t in range(talks):
            talk = f"ted_{100 * (s + 1) + t}"
            offset = 0.1
            for k in range(segments):
                duration = round(seconds + 0.05 * k, 3)
                entries.append(
                    {
                        "duration": duration,
                        "offset": round(offset, 3),
                        "rest_or_speaker_id": "spk." + talk[4:],
                        "speaker_id": "spk." + talk[4:],
                        "wav": f"{talk}.wav",
                    }
                )
                english.append(sentence(t + k).capitalize() + ".")
                target.append(GERMAN[(t + k) % len(GERMAN)].capitalize() + ".")
                offset += duration + 0.05
            write_audio(folder / "wav" / f"{talk}.wav", offset + 0.2, 16000, seed=s * 5 + t)
        (folder / "txt").mkdir(parents=True, exist_ok=True)
        (folder / "txt" / f"{split}.yaml").write_text(
            yaml.safe_dump(entries, default_flow_style=None, width=1000)
        )
        (folder / "txt" / f"{split}.en").write_text("\n".join(english) + "\n", encoding="utf-8")
        (folder / "txt" / f"{split}.{tgt}").write_text("\n".join(target) + "\n", encoding="utf-8")
    return root


def make_kaldi_dir(root: Path, utterances: int = 4, segments: bool = False, seconds: float = 0.5) -> Path:
    """A Kaldi data dir ``root/data/train`` with ``wav.scp``, ``text``, ``utt2spk`` (and ``segments``).

    Without segments each utterance is its own wav; with them, two recordings hold the
    utterances back to back (0.1 s apart).
    """
    folder = root / "data" / "train"
    audio = root / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    wav_scp, text, utt2spk, segs = [], [], [], []
    if not segments:
        for u in range(utterances):
            speaker, utt = f"spk{u % 2}", f"spk{u % 2}-utt{u}"
            path = write_audio(audio / f"{utt}.wav", seconds, 16000, seed=u)
            wav_scp.append(f"{utt} {path}")
            text.append(f"{utt} {sentence(u)}")
            utt2spk.append(f"{utt} {speaker}")
    else:
        for r in range(2):
            rec = f"rec{r}"
            count = (utterances + 1 - r) // 2
            path = write_audio(audio / f"{rec}.wav", count * (seconds + 0.1) + 0.1, 16000, seed=r)
            wav_scp.append(f"{rec} {path}")
            for k in range(count):
                utt = f"spk{r}-{rec}-{k}"
                start = 0.1 + k * (seconds + 0.1)
                segs.append(f"{utt} {rec} {start:.2f} {start + seconds:.2f}")
                text.append(f"{utt} {sentence(r + k)}")
                utt2spk.append(f"{utt} spk{r}")
    for name, lines in (("wav.scp", wav_scp), ("text", text), ("utt2spk", utt2spk), ("segments", segs)):
        if lines:
            (folder / name).write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return folder


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``speech <argv>`` in-process; ``(exit code, stdout, stderr)`` (argparse exits included)."""
    from speech.cli.main import main

    try:
        code = main(argv)
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """A CLI failure: exit code 2 and one ``error:`` line on stderr holding each needle."""
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "error:" in lines[0] and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
