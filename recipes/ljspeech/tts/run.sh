#!/usr/bin/env bash
# Tacotron2 on LJSpeech 1.1 (one speaker, 22.05 kHz), with the stages of recipes/mini/tts.
#
# Usage: CORPUS_DIR=/data/LJSpeech-1.1 recipes/ljspeech/tts/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare LJSpeech (12,500 / 100 / 500 split) -> DATA/corpus/{train,dev,test}.jsonl
#   1 tokenizer (characters of the normalised text, or espeak-ng phonemes when the config sets
#     text.phonemes) and mel statistics -> DATA/tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/alignments, DIR/model.ckpt
#   3 synthesize the test texts      -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json
#   4 score                          -> DIR/RESULTS.md (pocketsphinx WER, our ASR's WER when ASR_MODEL
#                                       exists, MCD, alignment health, real-time factor), side by side
#                                       with the reference recordings
# Defaults: DIR = recipes/ljspeech/tts/exp, FILE = conf/train.yaml (one GPU, bf16; see README.md),
# DATA = recipes/ljspeech/tts/data. Finished stages are skipped on a rerun unless their inputs or
# config changed.
# Environment: CORPUS_DIR, the LJSpeech-1.1 folder (needed by stage 0); DATA_DIR; CORPUS_OPTS
# (`speech prepare ljspeech` options, e.g. --dev 100 --test 500 --seed 0 --jobs 4); TRAIN_OPTS;
# DECODE_OPTS; ASR_MODEL (default recipes/librispeech/asr/exp/model.ckpt). The options, stages and
# variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/tts.sh
source "$recipes/lib/tts.sh"
asr_model="$recipes/librispeech/asr/exp/model.ckpt"
decode_on_gpu 16
need_corpus_dir "the LJSpeech-1.1 folder (holding metadata.csv and wavs/)"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare ljspeech --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --quiet --jobs 8 \
    "${corpus_opts[@]}"
tts_stages
