#!/usr/bin/env bash
# Tacotron2 on the built-in mini corpus (spoken English numbers, flite slt voice, 22.05 kHz).
#
# Usage: recipes/mini/tts/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the mini corpus (TTS part) -> data/corpus/tts/{train,dev,test}.jsonl
#   1 tokenizer (characters of the normalised text) and mel statistics -> data/tokenizer.json, data/cmvn.json
#   2 train                              -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/alignments, DIR/model.ckpt
#   3 synthesize the test texts          -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json (one thread)
#   4 score                              -> DIR/RESULTS.md (pocketsphinx WER, our ASR's WER when
#                                           recipes/mini/asr/exp/model.ckpt exists, MCD, alignment health,
#                                           real-time factor), side by side with the reference recordings
# Defaults: DIR = recipes/mini/tts/exp, FILE = conf/train.yaml. Finished stages are skipped on a
# rerun unless their inputs or config changed.
# Environment: DATA_DIR, CORPUS_OPTS (`speech prepare mini` options), TRAIN_OPTS, DECODE_OPTS,
# ASR_MODEL (default the mini ASR recipe's model). The options, stages and variables of every
# recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/tts.sh
source "$recipes/lib/tts.sh"
manifests="$corpus/tts"
asr_model="$recipes/mini/asr/exp/model.ckpt"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare mini --out-dir "$corpus" --no-asr "${corpus_opts[@]}"
tts_stages
