#!/usr/bin/env bash
# Multi-speaker Tacotron2 (a speaker embedding table) on VCTK 0.92, with the stages of recipes/mini/tts.
# VCTK is 48 kHz; the TTS features resample it to 22.05 kHz as they load it.
#
# Usage: CORPUS_DIR=/data/VCTK-Corpus-0.92 recipes/vctk/tts/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare VCTK (mic1; 5 dev and 5 test utterances held out per speaker)
#                                    -> DATA/corpus/{train,dev,test}.jsonl
#   1 tokenizer (characters of the normalised text, or espeak-ng phonemes when the config sets
#     text.phonemes) and mel statistics -> DATA/tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/alignments, DIR/model.ckpt
#   3 synthesize the test texts, each with its own speaker (or SPEAKER's voice for all)
#                                    -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json
#   4 score                          -> DIR/RESULTS.md (pocketsphinx WER, our ASR's WER when ASR_MODEL
#                                       exists, MCD, alignment health, real-time factor), side by side
#                                       with the reference recordings
# Defaults: DIR = recipes/vctk/tts/exp, FILE = conf/train.yaml (one GPU, bf16; see README.md).
# Environment: CORPUS_DIR, the VCTK-Corpus-0.92 folder (needed by stage 0); DATA_DIR (default
# recipes/vctk/tts/data); MIC (mic1 or mic2, default mic1); CORPUS_OPTS (extra `speech prepare vctk`
# options, e.g. --dev-per-speaker 5 --test-per-speaker 5 --seed 0); PREP_JOBS (header readers, 8);
# CMVN_UTTS (utterances for the statistics, default all); SPEAKER (one training speaker, e.g. p225,
# to say every test text; default each utterance's own); SYNTH_OPTS (default: --device cuda
# --batch-size 16 where nvidia-smi runs, else --threads 2); ASR_MODEL (default
# recipes/librispeech/asr/exp/model.ckpt; skipped when missing).
# Finished stages are skipped on a rerun unless their inputs or config changed.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"
asr_model="${ASR_MODEL:-$(cd "$here/../.." && pwd)/librispeech/asr/exp/model.ckpt}"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  split_words synth_opts "${SYNTH_OPTS:---device cuda --batch-size 16}"
else
  split_words synth_opts "${SYNTH_OPTS:---threads 2}"
fi
if (( stage <= 0 && 0 <= stop_stage )) && [[ -z "${CORPUS_DIR:-}" ]]; then
  echo "$(basename "$0"): error: set CORPUS_DIR to the VCTK-Corpus-0.92 folder (holding wav48_silence_trimmed/ and txt/)" >&2
  exit 2
fi
[[ -f "$config" ]] || { echo "$(basename "$0"): error: $config: no such config file" >&2; exit 2; }
# The tokenizer's symbols follow the config's text front end: characters, or phonemes.
text_opts="$("$PYTHON" -c 'import sys, yaml; t = (yaml.safe_load(open(sys.argv[1])) or {}).get("text") or {}
print(t.get("lang", "en"), "--phonemes" if t.get("phonemes") else "")' "$config")"
read -r lang phonemes <<< "$text_opts"
tokenizer_opts=(--kind char --lang "$lang")
[[ -z "$phonemes" ]] || tokenizer_opts+=(--phonemes)
cmvn_opts=()
[[ -z "${CMVN_UTTS:-}" ]] || cmvn_opts=(--max-utterances "$CMVN_UTTS")
corpus="$data/corpus"
speaker_opts=()
[[ -z "${SPEAKER:-}" ]] || speaker_opts=(--speaker "$SPEAKER")

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare vctk --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --mic "${MIC:-mic1}" --quiet \
    --jobs "${PREP_JOBS:-8}" "${corpus_opts[@]}"

run_stage 1 "tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --out "$data/tokenizer.json" "${tokenizer_opts[@]}"

run_stage 1 "mel stats" --inputs "$corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --preset tts --manifest "$corpus/train.jsonl" --out "$data/cmvn.json" "${cmvn_opts[@]}"

run_stage 2 "train" --resumable \
  --inputs "$config" "$corpus/train.jsonl" "$corpus/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train tts --config "$config" --exp-dir "$exp_dir" --set \
    data.train="$corpus/train.jsonl" data.dev="$corpus/dev.jsonl" \
    data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json" data.multi_speaker=true

run_stage 3 "synthesize test" --inputs "$exp_dir/model.ckpt" "$corpus/test.jsonl" \
  --outputs "$exp_dir/synth_test" "$exp_dir/synth_test/synth.jsonl" -- \
  speech synthesize --model "$exp_dir/model.ckpt" --manifest "$corpus/test.jsonl" --out-dir "$exp_dir/synth_test" \
    "${speaker_opts[@]}" "${synth_opts[@]}"

run_stage 4 "score" --inputs "$exp_dir/synth_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score tts --synth-dir "$exp_dir/synth_test" --ref "$corpus/test.jsonl" --train "$corpus/train.jsonl" \
    --asr-model "$asr_model" --out "$exp_dir/RESULTS.md"
