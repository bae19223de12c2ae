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
#   3 synthesize the test texts, each with its own speaker (DECODE_OPTS="--speaker p225": one
#     training speaker's voice for all) -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json
#   4 score                          -> DIR/RESULTS.md (pocketsphinx WER, our ASR's WER when ASR_MODEL
#                                       exists, MCD, alignment health, real-time factor), side by side
#                                       with the reference recordings
# Defaults: DIR = recipes/vctk/tts/exp, FILE = conf/train.yaml (one GPU, bf16; see README.md),
# DATA = recipes/vctk/tts/data. Finished stages are skipped on a rerun unless their inputs or config
# changed.
# Environment: CORPUS_DIR, the VCTK-Corpus-0.92 folder (needed by stage 0); DATA_DIR; CORPUS_OPTS
# (`speech prepare vctk` options, e.g. --mic mic2, --dev-per-speaker 5 --test-per-speaker 5 --seed 0,
# --jobs 4); TRAIN_OPTS; DECODE_OPTS; ASR_MODEL (default recipes/librispeech/asr/exp/model.ckpt).
# The options, stages and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/tts.sh
source "$recipes/lib/tts.sh"
train_set=(data.multi_speaker=true)
asr_model="$recipes/librispeech/asr/exp/model.ckpt"
decode_on_gpu 16
need_corpus_dir "the VCTK-Corpus-0.92 folder (holding wav48_silence_trimmed/ and txt/)"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare vctk --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --mic mic1 --quiet --jobs 8 \
    "${corpus_opts[@]}"
tts_stages
