"""The one page of ``speech serve``: plain HTML and JavaScript, nothing loaded from elsewhere.

A Python string rather than a data file, so that it ships inside the package with no
package-data configuration. The page asks ``/api/info`` which models are loaded and shows their
panels: upload a file or record from the microphone (MediaRecorder, decoded by the browser's
WebAudio and sent as 16-bit WAV, which the server reads like any upload), see the text; type
text, hear it in an ``<audio>`` element and see the attention alignment.
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>speech</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  section { border: 1px solid #ccc; border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
  section[hidden] { display: none; }
  .result { font-size: 1.3rem; min-height: 1.5rem; margin: .6rem 0 .2rem; }
  .meta, .status { color: #666; font-size: .9rem; }
  .error { color: #b00020; }
  textarea { width: 100%; box-sizing: border-box; }
  img { max-width: 100%; display: block; margin-top: .5rem; }
  button { margin: .3rem .3rem .3rem 0; }
</style>
</head>
<body>
<h1>speech</h1>
<p class="status" id="status">Loading...</p>

<section id="s2t" hidden>
  <h2>Speech to text</h2>
  <input type="file" id="audio-file" accept="audio/*,.wav,.flac,.ogg">
  <button id="transcribe" hidden>Transcribe</button>
  <button id="translate" hidden>Translate</button>
  <br>
  <button id="record">Record</button>
  <span class="meta" id="record-status"></span>
  <p class="result" id="s2t-text"></p>
  <p class="meta" id="s2t-meta"></p>
  <p class="error" id="s2t-error"></p>
</section>

<section id="tts" hidden>
  <h2>Text to speech</h2>
  <textarea id="tts-text" rows="3" placeholder="Type a text to speak"></textarea>
  <button id="speak">Speak</button>
  <p class="meta" id="tts-meta"></p>
  <audio id="tts-audio" controls preload="auto" hidden></audio>
  <img id="tts-alignment" alt="attention alignment" hidden>
  <p class="error" id="tts-error"></p>
</section>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
let recorded = null;  // a WAV Blob from the microphone, used when no file is chosen

async function call(url, options) {
  const response = await fetch(url, options);
  let body;
  try { body = await response.json(); } catch (e) { body = {error: response.statusText}; }
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

async function init() {
  try {
    const info = await call("/api/info");
    const m = info.models;
    $("s2t").hidden = !(m.asr || m.st);
    $("transcribe").hidden = !m.asr;
    $("translate").hidden = !m.st;
    if (m.st && info.target_lang) $("translate").textContent = "Translate (" + info.target_lang + ")";
    $("tts").hidden = !m.tts;
    $("tts-text").maxLength = info.limits.max_chars;
    $("status").textContent = "Ready. Audio up to " + info.limits.max_seconds + " s, text up to "
      + info.limits.max_chars + " characters.";
  } catch (e) {
    $("status").textContent = "Cannot reach the server: " + e.message;
  }
}

async function decode(endpoint) {
  const file = $("audio-file").files[0];
  const audio = file || (recorded && new File([recorded], "recording.wav", {type: "audio/wav"}));
  $("s2t-error").textContent = "";
  if (!audio) { $("s2t-error").textContent = "Choose a file or record first."; return; }
  const form = new FormData();
  form.append("audio", audio, audio.name);
  $("s2t-text").textContent = "";
  $("s2t-meta").textContent = "Working...";
  try {
    const r = await call(endpoint, {method: "POST", body: form});
    $("s2t-text").textContent = r.text;
    $("s2t-meta").textContent = audio.name + ": " + r.seconds.toFixed(2) + " s, score " + r.score.toFixed(3);
  } catch (e) {
    $("s2t-meta").textContent = "";
    $("s2t-error").textContent = e.message;
  }
}

async function speak() {
  $("tts-error").textContent = "";
  $("tts-meta").textContent = "Working...";
  try {
    const r = await call("/api/synthesize", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({text: $("tts-text").value}),
    });
    const audio = $("tts-audio"), image = $("tts-alignment");
    audio.src = r.audio;
    audio.hidden = false;
    audio.load();
    image.src = r.alignment;
    image.hidden = false;
    $("tts-meta").textContent = r.seconds.toFixed(2) + " s at " + r.sample_rate + " Hz"
      + (r.warnings.length ? "; warning: " + r.warnings.join("; ") : "");
  } catch (e) {
    $("tts-meta").textContent = "";
    $("tts-error").textContent = e.message;
  }
}

function wav(buffer) {  // an AudioBuffer as a mono 16-bit PCM WAV Blob
  const n = buffer.length, rate = buffer.sampleRate, view = new DataView(new ArrayBuffer(44 + 2 * n));
  const mono = new Float32Array(n);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < n; i++) mono[i] += data[i] / buffer.numberOfChannels;
  }
  const text = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, mono[i])) * 32767, true);
  return new Blob([view], {type: "audio/wav"});
}

let recorder = null;
async function toggleRecording() {
  if (recorder) { recorder.stop(); return; }
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    $("s2t-error").textContent = "This browser cannot record here (it needs localhost or HTTPS).";
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true});
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      $("record").textContent = "Record";
      const context = new AudioContext();
      const encoded = await new Blob(chunks).arrayBuffer();
      recorded = wav(await context.decodeAudioData(encoded));
      context.close();
      $("audio-file").value = "";
      $("record-status").textContent = "Recorded " + (recorded.size / 1024).toFixed(0) + " KiB.";
    };
    recorder.start();
    $("record").textContent = "Stop";
    $("record-status").textContent = "Recording...";
  } catch (e) {
    recorder = null;
    $("s2t-error").textContent = "Cannot record: " + e.message;
  }
}

$("transcribe").onclick = () => decode("/api/transcribe");
$("translate").onclick = () => decode("/api/translate");
$("audio-file").onchange = () => { recorded = null; $("record-status").textContent = ""; };
$("record").onclick = toggleRecording;
$("speak").onclick = speak;
init();
</script>
</body>
</html>
"""
