"""``speech serve``: a local web app over the inference classes (FastAPI on uvicorn).

``create_app(load_models(asr=..., tts=..., st=...))`` builds the app (see :mod:`speech.serve.app`
for the API); every model call runs on one worker thread (:mod:`speech.serve.worker`). Needs the
``serve`` extra.
"""

from speech.serve.app import Limits, Models, create_app, load_models
from speech.serve.worker import Busy, Worker

__all__ = ["Busy", "Limits", "Models", "Worker", "create_app", "load_models"]
