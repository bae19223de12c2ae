"""The JSON API of ``speech serve`` through FastAPI's TestClient (no network port), tiny models."""

from __future__ import annotations

import base64
import io
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
import soundfile as sf

from speech.serve import Limits, Models, create_app
from tests.serve.helpers import wav_bytes

with warnings.catch_warnings():  # starlette deprecates its TestClient on httpx (for httpx2)
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient


@pytest.fixture
def make_client():
    clients = []

    def make(models: Models, **limits) -> TestClient:
        client = TestClient(create_app(models, Limits(**limits)))
        clients.append(client.__enter__())  # runs the lifespan: leaving it stops the worker
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client, models):
    return make_client(models)


def _upload(client, endpoint: str, data: bytes, name: str = "a.wav"):
    return client.post(f"/api/{endpoint}", files={"audio": (name, data, "application/octet-stream")})


def _data(url: str, mime: str) -> bytes:
    head, _, payload = url.partition(",")
    assert head == f"data:{mime};base64"
    return base64.b64decode(payload)


# --- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint, fmt, rate",
    [("transcribe", "WAV", 16000), ("transcribe", "FLAC", 8000), ("translate", "WAV", 16000)],
)
def test_audio_gives_text_and_score(client, endpoint, fmt, rate):
    response = _upload(client, endpoint, wav_bytes(1.0, rate, fmt), f"a.{fmt.lower()}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["text"], str) and body["text"]
    assert isinstance(body["score"], float) and body["score"] < 0
    assert "decoder" in body["scores"]
    assert body["seconds"] == pytest.approx(1.0, abs=0.01)
    assert body.get("target_lang") == ("de" if endpoint == "translate" else None)


def test_synthesize_gives_a_wav_and_an_alignment_png(client, models):
    response = client.post("/api/synthesize", json={"text": "hello there. one two"})
    assert response.status_code == 200, response.text
    body = response.json()
    waveform, rate = sf.read(io.BytesIO(_data(body["audio"], "audio/wav")))
    assert rate == body["sample_rate"] == models.tts.sample_rate
    assert len(waveform) > 0 and body["seconds"] == pytest.approx(len(waveform) / rate)
    assert _data(body["alignment"], "image/png").startswith(b"\x89PNG\r\n\x1a\n")
    assert body["sentences"] == ["hello there.", "one two"]
    assert len(body["stopped"]) == 2
    assert sum("no stop predicted" in w for w in body["warnings"]) == body["stopped"].count(False)


def test_synthesize_as_wav(client, monkeypatch):
    import speech.cli.synthesize

    monkeypatch.setattr(speech.cli.synthesize, "_save_alignment", pytest.fail)  # no plot for a wav
    response = client.post("/api/synthesize?format=wav", json={"text": "hello"})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    waveform, rate = sf.read(io.BytesIO(response.content))
    assert rate == 22050 and len(waveform) > 0


def test_info_lists_models_and_limits(make_client, models):
    body = make_client(Models(asr=models.asr), max_chars=40).get("/api/info").json()
    assert body["models"] == {"asr": True, "st": False, "tts": False}
    assert body["limits"]["max_chars"] == 40


def test_page_is_self_contained(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    for element in ('id="audio-file"', 'id="transcribe"', 'id="s2t-text"', 'id="tts-audio"', "MediaRecorder"):
        assert element in page
    assert "http://" not in page and "https://" not in page and "<script src" not in page  # no CDN


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "a.wav: empty file"),
        (b"this is not audio", "a.wav: not a readable audio file"),
        (wav_bytes(0.002), "a.wav: too short for this model"),
        (wav_bytes(1.0)[:1000], "a.wav: truncated audio"),
    ],
    ids=["empty", "not-audio", "too-short", "truncated"],
)
@pytest.mark.parametrize("endpoint", ["transcribe", "translate"])
def test_bad_audio_is_400_with_one_line(client, endpoint, data, message):
    response = _upload(client, endpoint, data)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(message) and "\n" not in error and "/tmp" not in error


def test_limits_are_413(make_client, models):
    client = make_client(models, max_bytes=50_000, max_seconds=0.5, max_chars=20)
    too_long = _upload(client, "transcribe", wav_bytes(1.0))  # 32 kB, 1 s
    assert too_long.status_code == 413 and "the limit is 0.5 s" in too_long.json()["error"]
    too_big = _upload(client, "transcribe", wav_bytes(1.0, rate=48000))  # 96 kB
    assert too_big.status_code == 413 and "bytes" in too_big.json()["error"]
    huge = _upload(client, "translate", wav_bytes(5.0))  # 160 kB: refused before the form is read
    assert huge.status_code == 413 and "the request has" in huge.json()["error"]
    text = client.post("/api/synthesize", json={"text": "one two three four five six"})
    assert text.status_code == 413 and "limit is 20" in text.json()["error"]


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"text": ""}, 400, "empty text"),
        ({"text": "   \n"}, 400, "empty text"),
        ({"text": "€€€ ♫"}, 400, "nothing to say"),
        ({"text": "hello", "speaker": "alice"}, 400, "single-speaker model"),
        ({}, 422, "text"),
        ({"text": 12}, 422, "text"),
    ],
)
def test_bad_text_is_4xx(client, body, status, message):
    response = client.post("/api/synthesize", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_bad_requests(client):
    folders = _upload(client, "transcribe", b"junk", name="C:\\x\\..\\../secret/notes.wav")
    assert folders.json()["error"].startswith("notes.wav: not a readable audio file")
    assert client.post("/api/transcribe").status_code == 422  # no audio field
    assert client.post("/api/synthesize?format=mp3", json={"text": "hi"}).json()["error"].startswith("format")
    for response in (client.get("/api/nothing"), client.get("/api/transcribe")):
        assert response.status_code in (404, 405) and "error" in response.json()


def test_missing_model_is_404(make_client, models):
    only_tts = make_client(Models(tts=models.tts))
    for endpoint, option in (("transcribe", "--asr"), ("translate", "--st")):
        response = _upload(only_tts, endpoint, wav_bytes())
        assert response.status_code == 404 and option in response.json()["error"]
    response = make_client(Models(asr=models.asr)).post("/api/synthesize", json={"text": "hi"})
    assert response.status_code == 404 and "--tts" in response.json()["error"]


# --- the queue -----------------------------------------------------------------------------------


class Recorder:
    """Wraps model methods: counts calls running at once and the batch sizes."""

    def __init__(self, monkeypatch, models: Models, gate: threading.Event | None = None) -> None:
        self.lock, self.running, self.most, self.batches = threading.Lock(), 0, 0, []
        self.gate = gate
        for model, name in ((models.asr, "decode"), (models.st, "decode"), (models.tts, "synthesize_text")):
            monkeypatch.setattr(model, name, self.wrap(getattr(model, name)))

    def wrap(self, method):
        def wrapped(inputs, *args, **kwargs):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
                self.batches.append(len(inputs) if isinstance(inputs, list) else 1)
            try:
                if self.gate is not None:
                    self.gate.wait(60)
                time.sleep(0.02)  # widen the window in which a parallel call would overlap
                return method(inputs, *args, **kwargs)
            finally:
                with self.lock:
                    self.running -= 1

        return wrapped


def _mixed_request(client, i: int):
    if i % 4 == 3:
        return client.post("/api/synthesize", json={"text": "one two"})
    return _upload(client, "translate" if i % 4 == 2 else "transcribe", wav_bytes(0.5 + 0.1 * i, seed=i))


def test_model_calls_never_overlap(client, models, monkeypatch):
    recorder = Recorder(monkeypatch, models)
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda i: _mixed_request(client, i), range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert recorder.most == 1
    assert sum(recorder.batches) == 8


def _wait_for(condition) -> None:
    for _ in range(6000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition never met")


def test_queued_recordings_are_decoded_in_one_batch(make_client, models, monkeypatch):
    gate = threading.Event()
    recorder = Recorder(monkeypatch, models, gate)
    client = make_client(models, max_batch=8)
    worker = client.app.state.worker
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(_upload, client, "transcribe", wav_bytes(0.5))
        _wait_for(lambda: recorder.batches == [1])  # the worker is busy with it
        rest = [
            pool.submit(_upload, client, "transcribe", wav_bytes(0.3 + 0.1 * i, seed=i)) for i in range(7)
        ]
        _wait_for(lambda: worker.pending == 7)
        gate.set()
        texts = [f.result().json()["text"] for f in [first, *rest]]
    assert recorder.batches == [1, 7] and recorder.most == 1
    assert all(isinstance(t, str) for t in texts)


def test_full_queue_answers_503(make_client, models, monkeypatch):
    gate = threading.Event()
    recorder = Recorder(monkeypatch, models, gate)
    client = make_client(models, queue_size=2)
    worker = client.app.state.worker
    with ThreadPoolExecutor(4) as pool:
        running = pool.submit(client.post, "/api/synthesize", json={"text": "one"})
        _wait_for(lambda: recorder.batches == [1])
        waiting = [pool.submit(_upload, client, "transcribe", wav_bytes()) for _ in range(2)]
        _wait_for(lambda: worker.pending == 2)
        refused = _upload(client, "transcribe", wav_bytes())
        gate.set()
        statuses = [f.result().status_code for f in [running, *waiting]]
    assert refused.status_code == 503 and "busy" in refused.json()["error"]
    assert statuses == [200, 200, 200]
