"""The web app of ``speech serve``: a JSON API over the loaded models and one page that uses it.

Endpoints (errors are ``{"error": "one line"}`` with a 4xx or 503 status):

- ``GET /``: the page (upload or record audio, see the text; type text, hear it).
- ``GET /api/info``: which models are loaded, and the limits.
- ``POST /api/transcribe`` and ``POST /api/translate``: a multipart form with the recording in
  field ``audio`` (anything soundfile reads: WAV, FLAC, OGG ...) ->
  ``{"text", "score", "scores", "seconds"}`` (``"target_lang"`` too for a translation).
- ``POST /api/synthesize``: JSON ``{"text": "...", "speaker": null}`` -> ``{"text", "sentences",
  "stopped", "sample_rate", "seconds", "warnings", "audio": "data:audio/wav;base64,...",
  "alignment": "data:image/png;base64,..."}``; with ``?format=wav`` the WAV itself (``audio/wav``,
  and no plot is drawn).

Statuses: 400 unusable input (unreadable or empty audio, audio too short for the model, empty text,
text with nothing the model can say, a bad speaker), 404 no model loaded for that endpoint, 413 an
input over a limit (bytes, seconds, characters), 422 a malformed request (no ``audio`` field, no
``text``), 503 the queue is full. Every model call runs on one worker thread (see :mod:`.worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import Body, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from speech.errors import SpeechError
from speech.inference import Synthesizer, Transcriber, Translator
from speech.serve.jobs import SpeechRequest, TooLargeError, Upload, data_url, decode_uploads, synthesize_each
from speech.serve.page import PAGE
from speech.serve.worker import Busy, Worker


@dataclass(frozen=True)
class Limits:
    """What one request may ask for, and how much may wait.

    Attributes:
        max_bytes: Largest upload in bytes.
        max_seconds: Longest recording in seconds.
        max_chars: Longest text to speak, in characters.
        queue_size: Requests waiting for the worker at most; more get 503.
        max_batch: Recordings decoded together in one call.
    """

    max_bytes: int = 10_000_000
    max_seconds: float = 30.0
    max_chars: int = 500
    queue_size: int = 64
    max_batch: int = 8

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_chars", "queue_size", "max_batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpeechError(f"{name} must be an integer of at least 1, got {value!r}")
        if not self.max_seconds > 0:
            raise SpeechError(f"max_seconds must be positive, got {self.max_seconds!r}")


@dataclass(frozen=True)
class Models:
    """The loaded models; any may be missing (its endpoint answers 404).

    Attributes:
        asr: The recognizer of ``/api/transcribe``.
        st: The translator of ``/api/translate``.
        tts: The synthesizer of ``/api/synthesize`` (with its vocoder).
    """

    asr: Transcriber | None = None
    st: Translator | None = None
    tts: Synthesizer | None = None


def load_models(
    asr: str | None = None,
    st: str | None = None,
    tts: str | None = None,
    vocoder: str | None = None,
    device: str = "cpu",
    griffin_lim_iters: int = 32,
) -> Models:
    """Load the named checkpoints (weights only, each through its ``from_checkpoint``).

    Raises:
        SpeechError: None named, a vocoder without a TTS model, or a checkpoint that does not load.
    """
    if asr is None and st is None and tts is None:
        raise SpeechError("name at least one model: --asr, --tts or --st")
    if vocoder is not None and tts is None:
        raise SpeechError("--vocoder goes with --tts")
    return Models(
        asr=Transcriber.from_checkpoint(asr, device) if asr else None,
        st=Translator.from_checkpoint(st, device) if st else None,
        tts=Synthesizer.from_checkpoint(tts, device, griffin_lim_iters, vocoder) if tts else None,
    )


_MISSING = {"asr": "--asr", "st": "--st", "tts": "--tts"}
_FORM_BYTES = 64_000  # a multipart form's own bytes beside the file it carries
_WHAT = {"asr": "speech recognition", "st": "speech translation", "tts": "speech synthesis"}


def create_app(models: Models, limits: Limits | None = None) -> FastAPI:
    """The app: the page, the API and the worker thread that runs the models.

    The worker starts now and stops when the app shuts down (uvicorn, or leaving a ``TestClient``
    context); ``app.state.worker`` is it.
    """
    limits = limits or Limits()
    handlers: dict[str, Any] = {}
    if models.asr is not None:
        handlers["asr"] = partial(decode_uploads, models.asr, max_seconds=limits.max_seconds)
    if models.st is not None:
        handlers["st"] = partial(decode_uploads, models.st, max_seconds=limits.max_seconds)
    if models.tts is not None:
        handlers["tts"] = partial(synthesize_each, models.tts)
    worker = Worker(handlers, limits.queue_size, limits.max_batch, batchable=("asr", "st"))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        worker.close(timeout=5)

    app = FastAPI(title="speech", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.worker, app.state.models, app.state.limits = worker, models, limits
    _add_error_handlers(app)
    api = _Api(models, limits, worker)
    app.middleware("http")(api.refuse_large_bodies)
    app.add_api_route("/", api.page, response_class=HTMLResponse)
    app.add_api_route("/api/info", api.info)
    app.add_api_route("/api/transcribe", api.transcribe, methods=["POST"])
    app.add_api_route("/api/translate", api.translate, methods=["POST"])
    app.add_api_route("/api/synthesize", api.synthesize, methods=["POST"])
    return app


class _Api:
    """The routes: sizes checked here, model work handed to the worker (one thread)."""

    def __init__(self, models: Models, limits: Limits, worker: Worker) -> None:
        self.models, self.limits, self.worker = models, limits, worker

    async def run(self, kind: str, payload: Any) -> Any:
        """The worker's result for one job (404 without the model, 503 when the queue is full)."""
        if kind not in self.worker.handlers:
            message = f"no {_WHAT[kind]} model is loaded (start speech serve with {_MISSING[kind]})"
            raise HTTPException(404, message)
        return await asyncio.wrap_future(self.worker.submit(kind, payload))

    async def refuse_large_bodies(self, request: Request, call_next):
        """A body announced larger than an upload (and its form's own bytes) is not even read."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_bytes + _FORM_BYTES:
            message = f"the request has {int(length)} bytes; the limit is {self.limits.max_bytes}"
            return JSONResponse({"error": message}, status_code=413)
        return await call_next(request)

    async def upload(self, audio: UploadFile) -> Upload:
        """The uploaded file, at most ``max_bytes``; its name without folders, for messages."""
        limit = self.limits.max_bytes
        data = await audio.read(limit + 1)
        name = (audio.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:100] or "upload"
        if len(data) > limit:
            raise TooLargeError(f"{name}: more than {limit} bytes (the limit)")
        return Upload(name, data)

    async def page(self) -> str:
        return PAGE

    async def info(self) -> dict:
        models = self.models
        return {
            "models": {kind: kind in self.worker.handlers for kind in ("asr", "st", "tts")},
            "target_lang": models.st.target_lang if models.st is not None else None,
            "speakers": models.tts.speakers if models.tts is not None else [],
            "limits": asdict(self.limits),
        }

    async def transcribe(self, audio: Annotated[UploadFile, File()]) -> dict:
        return await self.run("asr", await self.upload(audio))

    async def translate(self, audio: Annotated[UploadFile, File()]) -> dict:
        result = await self.run("st", await self.upload(audio))
        return {**result, "target_lang": self.models.st.target_lang}

    async def synthesize(
        self,
        text: Annotated[str, Body()],
        speaker: Annotated[str | None, Body()] = None,
        format: str = "json",
    ) -> Response:
        if format not in ("json", "wav"):
            raise HTTPException(400, f"format must be json or wav, got {format[:20]!r}")
        if not text.strip():
            raise HTTPException(400, "empty text")
        if len(text) > self.limits.max_chars:
            raise TooLargeError(f"the text has {len(text)} characters; the limit is {self.limits.max_chars}")
        tts = self.models.tts
        if tts is not None:  # refuse what the model cannot say before queueing it
            for sentence in tts.sentences(text):
                tts.encode(sentence)
        out = await self.run("tts", SpeechRequest(text, speaker, plot=format == "json"))
        if format == "wav":
            return Response(out["wav"], media_type="audio/wav")
        audio, png = data_url(out.pop("wav"), "audio/wav"), data_url(out.pop("png"), "image/png")
        return JSONResponse({"text": text, **out, "audio": audio, "alignment": png})


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is ``{"error": "one line"}``."""

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def http_error(request: Request, e: Exception) -> JSONResponse:
        return error(getattr(e, "status_code", 500), str(getattr(e, "detail", e)))

    # by status too: Starlette's own (unknown route, wrong method, malformed form) are not FastAPI's class
    for key in (HTTPException, 400, 404, 405, 413):
        app.add_exception_handler(key, http_error)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, e: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(map(str, p.get('loc', ())))}: {p.get('msg', '')}" for p in e.errors()]
        return error(422, "bad request: " + "; ".join(problems))

    @app.exception_handler(SpeechError)
    async def bad_input(request: Request, e: SpeechError) -> JSONResponse:
        return error(413 if isinstance(e, TooLargeError) else 400, str(e))

    @app.exception_handler(Busy)
    async def busy(request: Request, e: Busy) -> JSONResponse:
        return error(503, str(e))

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception) -> JSONResponse:  # uvicorn logs the traceback
        summary = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")
        return error(500, f"internal error (a bug in speech): {summary}")
