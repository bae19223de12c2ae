"""Export trained models for other runtimes: ONNX (onnxruntime) or TorchScript.

``speech export --model CKPT --format onnx --out DIR`` writes, per family:

* speech-to-text (ASR, ST): ``encoder`` (features -> memory, attention keys, CTC log-probs) and
  ``decoder_step`` (one speller step on flat state tensors), so a runtime drives its own search;
* TTS (Tacotron2): ``encoder``, ``decoder_step`` and ``postnet``;
* vocoder: ``vocoder``, the whole network (natural-log mel -> waveform);

and a ``manifest.json`` (see :mod:`speech.export.writer`). The log-mel front end is not in the
graphs: a runtime computes it from the manifest's feature and CMVN settings
(:mod:`speech.inference.onnx` does it with :mod:`speech.features`).
"""

from speech.export.graph import FORMATS, OPSET
from speech.export.writer import MANIFEST, ExportResult, export_model

__all__ = ["FORMATS", "MANIFEST", "OPSET", "ExportResult", "export_model"]
