"""A reference runner of exported ONNX models (``speech export --format onnx``) on onnxruntime.

It shows how a runtime drives the graphs, and its tests show that the graphs give PyTorch's
results; it is not a fast server. The graphs run in onnxruntime with numpy arrays between the
steps. Two parts stay in PyTorch on purpose, so that the features are bit for bit the training
code's: the log-mel front end with CMVN (:mod:`speech.features`, rebuilt from the manifest's
settings) and, for TTS, the per-item random streams of the prenet's inference dropout
(``torch.Generator``, as :meth:`Decoder.infer <speech.models.tacotron2_decoder.Decoder.infer>`
draws them). No checkpoint is read: the tokenizer and every setting come from ``manifest.json``.

* :class:`OnnxRecognizer` (ASR and ST): greedy decoding, the search of
  ``Transcriber.transcribe(files, beam_size=1, ctc_weight=0.0)``;
* :class:`OnnxSynthesizer` (TTS): encoder, decoder steps until the stop token, postnet, then an
  :class:`OnnxVocoder` or Griffin-Lim;
* :class:`OnnxVocoder`: natural-log mels to waveforms.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from speech.errors import SpeechError
from speech.io import child_path

AudioInput = str | os.PathLike | torch.Tensor


class OnnxResult(NamedTuple):
    """One decoded input: text, token ids and the length-normalised log-score."""

    text: str
    tokens: list[int]
    score: float


class OnnxUtterance(NamedTuple):
    """One synthesized sentence: natural-log mel (frames, F), waveform (T,) or None, stopped by itself."""

    mel: np.ndarray
    waveform: np.ndarray | None
    stopped: bool


def read_manifest(folder: str | os.PathLike, tasks: tuple[str, ...]) -> dict[str, Any]:
    """The manifest of an ONNX export folder of one of ``tasks``.

    Raises:
        SpeechError: No manifest, not JSON, not an ONNX export, or another task.
    """
    path = Path(folder) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpeechError(f"{folder}: no manifest.json (not a speech export folder)") from None
    except (OSError, ValueError) as e:
        raise SpeechError(f"{path}: unreadable ({e.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "onnx":
        raise SpeechError(f"{path}: not an ONNX export")
    if manifest.get("task") not in tasks:
        raise SpeechError(f"{path}: a {manifest.get('task')} export, not {' or '.join(tasks)}")
    return manifest


class _Graphs:
    """The onnxruntime sessions of an export folder, one per manifest file, at ``threads`` threads."""

    def __init__(self, folder: str | os.PathLike, manifest: dict[str, Any], threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        where = Path(folder) / "manifest.json"
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("outputs"), list)
            for e in files.values()
        ):
            raise SpeechError(f"{where}: 'files' must map each graph to its 'file' and 'outputs'")
        self.sessions, self.outputs = {}, {}
        for name, entry in files.items():
            # a graph's file is a name inside the folder, never a path the manifest points elsewhere
            path = child_path(folder, entry["file"], what=f"{where}: graph file")
            try:
                self.sessions[name] = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
                self.outputs[name] = [o["name"] for o in entry["outputs"]]
            except (TypeError, KeyError):
                raise SpeechError(f"{where}: graph '{name}' has malformed 'outputs'") from None
            except Exception as e:  # onnxruntime raises its own classes for a missing or bad graph
                first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
                raise SpeechError(f"{path}: cannot load the ONNX graph ({first})") from None

    def run(self, name: str, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run graph ``name``; returns its outputs by name."""
        return dict(zip(self.outputs[name], self.sessions[name].run(None, inputs), strict=True))


class OnnxRecognizer:
    """Greedy decoding of an exported speech-to-text model (ASR or ST).

    Args:
        folder: The export folder.
        threads: onnxruntime intra-op threads.
    """

    def __init__(self, folder: str | os.PathLike, threads: int = 1) -> None:
        from speech.config import from_dict
        from speech.decoding import SearchConfig
        from speech.inference.common import SpeechFrontEnd
        from speech.text import tokenizer_from_dict

        self.manifest = read_manifest(folder, ("asr", "st"))
        meta = self.manifest["metadata"]
        self.meta = meta
        self.graphs = _Graphs(folder, self.manifest, threads)
        self.tokenizer = tokenizer_from_dict(meta["tokenizer"], where=f"{folder}: manifest tokenizer")
        self.search = from_dict(SearchConfig, meta["search"], where=f"{folder}: manifest search")
        self.front_end = SpeechFrontEnd(*_features(meta)).eval()

    @property
    def sample_rate(self) -> int:
        """Sample rate the model expects; files are resampled to it."""
        return self.front_end.sample_rate

    def transcribe(self, audio: Sequence[AudioInput], batch_size: int = 16) -> list[OnnxResult]:
        """Greedy results of files or 1-D waveforms, in input order (decoded longest first in batches)."""
        from speech.audio import load
        from speech.data.dataset import pad_sequences
        from speech.inference.common import check_waveform

        needed = max(1, (self.meta["reduction"] - 1) * self.front_end.features.config.hop_length)
        waves = [
            check_waveform(
                a if isinstance(a, torch.Tensor) else load(a, self.sample_rate),
                str(a)[:40],
                needed,
                self.sample_rate,
            )
            for a in audio
        ]
        order = sorted(range(len(waves)), key=lambda i: -waves[i].numel())
        results: list[OnnxResult | None] = [None] * len(waves)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch, lengths = pad_sequences([waves[i] for i in chunk])
            with torch.no_grad():
                feats, frame_lengths = self.front_end(batch, lengths)
            for i, result in zip(chunk, self.decode(feats.numpy(), frame_lengths.numpy()), strict=True):
                results[i] = result
        return results

    translate = transcribe

    def decode(self, features: np.ndarray, feature_lengths: np.ndarray) -> list[OnnxResult]:
        """Greedy decoding of normalised features (B, T, F) float32 with lengths (B,) int64."""
        enc = self.graphs.run(
            "encoder", features=features.astype(np.float32), feature_lengths=feature_lengths.astype(np.int64)
        )
        tokens = greedy(self.graphs, enc, self.meta, self.search)
        return [OnnxResult(self.tokenizer.decode(seq), seq, score) for seq, score in tokens]


def greedy(
    graphs: _Graphs, enc: dict[str, np.ndarray], meta: dict[str, Any], search
) -> list[tuple[list[int], float]]:
    """The best token at every step for the whole batch: :func:`speech.decoding.greedy_search`, decoder alone.

    Returns:
        Per utterance, its tokens (without eos) and its length-normalised log-score.
    """
    memory, memory_lengths, keys = enc["memory"], enc["memory_lengths"], enc["keys"]
    B, S, D = memory.shape
    sp = meta["speller"]
    eos = meta["eos_id"]
    state = {
        "h": np.zeros((sp["n_layers"], B, sp["hidden_size"]), np.float32),
        "c": np.zeros((sp["n_layers"], B, sp["hidden_size"]), np.float32),
        "context": np.zeros((B, D), np.float32),
        "att_weights": np.zeros((keys.shape[0], B, S), np.float32),
    }
    state["att_weights"][:, :, 0] = 1.0  # attention starts on the first frame
    state["att_cumulative"] = state["att_weights"].copy()
    max_len, min_len = search.length_limits(memory_lengths.tolist())
    limit, min_len = np.array(max_len), np.array(min_len)
    last = np.full(B, meta["bos_id"], np.int64)
    score = np.zeros(B, np.float64)
    ended = np.zeros(B, bool)
    out = []
    for step in range(max(max_len)):
        new = graphs.run(
            "decoder_step", tokens=last, memory=memory, memory_lengths=memory_lengths, keys=keys, **state
        )
        log_probs = new["log_probs"]
        log_probs[step < min_len, eos] = -np.inf
        best = log_probs.argmax(axis=1)
        running = ~ended & (step < limit)
        score += np.where(running, log_probs[np.arange(B), best], 0.0)
        ended |= running & (best == eos)
        out.append(np.where(running, best, eos))
        if bool((ended | (step + 1 >= limit)).all()):
            break
        state = {k: new[f"new_{k}"] for k in state}
        last = best.astype(np.int64)
    results = []
    for b, seq in enumerate(np.stack(out, axis=1).tolist()):
        seq = seq[: seq.index(eos)] if eos in seq else seq
        length = len(seq) + int(ended[b])
        results.append((seq, float(score[b]) / max(length, 1) ** search.length_penalty))
    return results


def _features(meta: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The log-mel module and the global CMVN of a manifest's metadata."""
    from speech.features import GlobalCMVN, LogMel, LogMelConfig

    config = LogMelConfig.from_dict(meta["features"])
    cmvn = GlobalCMVN(config.n_mels)
    cmvn.mean.copy_(torch.tensor(meta["cmvn"]["mean"]))
    cmvn.std.copy_(torch.tensor(meta["cmvn"]["std"]))
    return LogMel(config), cmvn


class OnnxVocoder:
    """An exported vocoder: natural-log mels to waveforms.

    Args:
        folder: The export folder.
        threads: onnxruntime intra-op threads.
    """

    def __init__(self, folder: str | os.PathLike, threads: int = 1) -> None:
        self.manifest = read_manifest(folder, ("vocoder",))
        self.graphs = _Graphs(folder, self.manifest, threads)
        self.sample_rate = int(self.manifest["metadata"]["features"]["sample_rate"])

    def __call__(
        self, log_mel: np.ndarray, frame_lengths: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``log_mel`` (B, T, F) -> waveforms (B, (T - 1) hop) and lengths (B,)."""
        B, T, _ = log_mel.shape
        lengths = np.full(B, T, np.int64) if frame_lengths is None else np.asarray(frame_lengths, np.int64)
        out = self.graphs.run("vocoder", log_mel=log_mel.astype(np.float32), frame_lengths=lengths)
        return out["waveforms"], out["lengths"]


class OnnxSynthesizer:
    """Free-running synthesis with an exported Tacotron2, as :meth:`Tacotron2.synthesize` does it.

    Args:
        folder: The export folder.
        vocoder: An exported vocoder's folder; None uses Griffin-Lim (:class:`~speech.features.MelInverter`).
        threads: onnxruntime intra-op threads.
        griffin_lim_iters: Griffin-Lim iterations without a vocoder.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        vocoder: str | os.PathLike | None = None,
        threads: int = 1,
        griffin_lim_iters: int = 32,
    ) -> None:
        from speech.config import from_dict
        from speech.features import LogMelConfig
        from speech.models.tacotron2 import InferenceConfig
        from speech.text import tokenizer_from_dict
        from speech.text.frontend import TextFrontEndConfig, text_front_end

        self.manifest = read_manifest(folder, ("tts",))
        meta = self.meta = self.manifest["metadata"]
        self.graphs = _Graphs(folder, self.manifest, threads)
        self.tokenizer = tokenizer_from_dict(meta["tokenizer"], where=f"{folder}: manifest tokenizer")
        self.text = text_front_end(
            from_dict(TextFrontEndConfig, meta["text"], where=f"{folder}: manifest text")
        )
        self.inference = from_dict(InferenceConfig, meta["inference"], where=f"{folder}: manifest inference")
        self.features = LogMelConfig.from_dict(meta["features"])
        self.mean = np.asarray(meta["cmvn"]["mean"], np.float32)
        self.std = np.asarray(meta["cmvn"]["std"], np.float32)
        self.vocoder = OnnxVocoder(vocoder, threads) if vocoder is not None else None
        self.griffin_lim_iters = griffin_lim_iters

    def encode(self, text: str) -> list[int]:
        """Symbol ids of one sentence after the text front end."""
        ids = self.tokenizer.encode(self.text(text))
        if not ids:
            raise SpeechError(f"nothing to say in {text!r}")
        return ids

    def synthesize_sentences(
        self, sentences: Sequence[str], speaker: str | None = None
    ) -> list[OnnxUtterance]:
        """Synthesize sentences in one batch: natural-log mels, waveforms and whether each stopped."""
        encoded = [self.encode(s) for s in sentences]
        mel, mel_lengths, stopped = self.synthesize_ids(encoded, speaker)
        log_mel = mel * self.std + self.mean  # undo CMVN
        waves, wave_lengths = self._vocode(log_mel, mel_lengths)
        return [
            OnnxUtterance(
                log_mel[i, : mel_lengths[i]],
                None if waves is None else waves[i, : wave_lengths[i]],
                bool(stopped[i]),
            )
            for i in range(len(sentences))
        ]

    def synthesize_ids(
        self, encoded: Sequence[Sequence[int]], speaker: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Normalised mels after the postnet (B, T, F), their lengths (B,) and ``stopped`` (B,)."""
        meta, config = self.meta, self.inference
        B, S = len(encoded), max(len(e) for e in encoded)
        tokens = np.full((B, S), meta["model"]["pad_id"], np.int64)
        for i, e in enumerate(encoded):
            tokens[i, : len(e)] = e
        token_lengths = np.array([len(e) for e in encoded], np.int64)
        inputs = {"tokens": tokens, "token_lengths": token_lengths}
        if meta["speakers"]:
            if speaker not in meta["speakers"]:
                raise SpeechError(f"unknown speaker {speaker!r}")
            inputs["speakers"] = np.full(B, meta["speakers"].index(speaker), np.int64)
        enc = self.graphs.run("encoder", **inputs)
        r = meta["model"]["reduction_factor"]
        max_frames = np.maximum(
            np.ceil(token_lengths.astype(np.float32) * np.float32(config.max_frames_per_symbol)),
            config.min_max_frames,
        )
        max_steps = (max_frames.astype(np.int64) + r - 1) // r
        masks = _prenet_masks(meta["model"], max_steps, config.seed)
        frames, steps, stopped = self._decode(enc, token_lengths, max_steps, masks)
        mel_lengths = steps * r
        mel = self.graphs.run("postnet", mel=frames, mel_lengths=mel_lengths)["mel_postnet"]
        return mel, mel_lengths, stopped

    def _decode(self, enc, token_lengths, max_steps, masks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The decoder loop of :meth:`Decoder.infer <speech.models.tacotron2_decoder.Decoder.infer>`."""
        meta, config = self.meta["model"], self.inference
        memory, keys = enc["memory"], enc["keys"]
        B, S, D = memory.shape
        valid = np.arange(S)[None, :] < token_lengths[:, None]
        state = {
            "att_h": np.zeros((B, meta["attention_rnn_dim"]), np.float32),
            "att_c": np.zeros((B, meta["attention_rnn_dim"]), np.float32),
            "dec_h": np.zeros((B, meta["decoder_rnn_dim"]), np.float32),
            "dec_c": np.zeros((B, meta["decoder_rnn_dim"]), np.float32),
            "context": np.zeros((B, D), np.float32),
            "att_weights": np.zeros((B, S), np.float32),
        }
        state["att_weights"][:, 0] = 1.0
        state["att_cumulative"] = state["att_weights"].copy()
        from speech.models.tacotron2_decoder import _logit  # sigmoid(x) > p exactly when x > logit(p)

        threshold = _logit(config.stop_threshold)
        last_symbol = token_lengths - 1
        steps, stopped, done = max_steps.copy(), np.zeros(B, bool), np.zeros(B, bool)
        frame = np.zeros((B, meta["n_mels"]), np.float32)
        positions = np.arange(S)[None, :]
        frames = []
        for n in range(int(max_steps.max())):
            attention_mask = valid
            if config.window_backward >= 0:  # the monotonic window around the previous peak
                peak = state["att_weights"].argmax(axis=-1)[:, None]
                window = (positions >= peak - config.window_backward) & (
                    positions <= peak + config.window_forward
                )
                attention_mask = valid & window
            mask_inputs = {f"prenet_mask_{i}": np.ascontiguousarray(m[:, n]) for i, m in enumerate(masks)}
            out = self.graphs.run(
                "decoder_step",
                frame=frame,
                attention_mask=attention_mask,
                memory=memory,
                keys=keys,
                **mask_inputs,
                **state,
            )
            state = {k: out[f"new_{k}"] for k in state}
            frames.append(out["frames"])
            frame = out["frames"][:, -1]
            w = state["att_weights"]
            near_end = (
                w.argmax(axis=-1) >= last_symbol - config.stop_near_end if config.stop_near_end > 0 else True
            )
            stop_now = ~done & (out["stop_logits"] > threshold) & near_end
            at_limit = ~done & (max_steps <= n + 1)
            steps = np.where(stop_now | at_limit, n + 1, steps)
            stopped |= stop_now
            done |= stop_now | at_limit
            if bool(done.all()):
                break
        return np.concatenate(frames, axis=1), steps, stopped

    def _vocode(
        self, log_mel: np.ndarray, mel_lengths: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.vocoder is not None:
            return self.vocoder(log_mel, mel_lengths)
        from speech.features import MelInverter

        inverter = MelInverter(self.features, n_iter=self.griffin_lim_iters)
        out = inverter(
            torch.from_numpy(log_mel),
            torch.from_numpy(mel_lengths),
            generator=torch.Generator().manual_seed(self.inference.seed),
        )
        return out.waveforms.numpy(), out.lengths.numpy()


def _prenet_masks(model: dict[str, Any], steps: np.ndarray, seed: int) -> list[np.ndarray]:
    """Per-item prenet dropout masks, item i from ``torch.Generator`` seeded ``seed + i``: PyTorch's draws."""
    from speech.models.tacotron2_decoder import draw_prenet_masks

    generators = [torch.Generator().manual_seed(seed + i) for i in range(len(steps))]
    masks = draw_prenet_masks(
        list(model["prenet_dims"]), model["prenet_dropout"], torch.from_numpy(steps), generators
    )
    return [m.numpy() for m in masks]


__all__ = ["OnnxRecognizer", "OnnxResult", "OnnxSynthesizer", "OnnxUtterance", "OnnxVocoder", "read_manifest"]
