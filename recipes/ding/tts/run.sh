#!/usr/bin/env bash
# Tacotron2 with phoneme input on the ding corpus: open-vocabulary English sentences from Debian's
# Ding dictionary in one flite voice (slt, 22.05 kHz). The test sentences are unseen text.
#
# Usage: recipes/ding/tts/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the ding corpus (TTS part)  -> data/corpus/tts/{train,dev,test}.jsonl
#   1 phoneme tokenizer (espeak-ng IPA of the normalised text) and mel statistics
#                                         -> data/tokenizer.json, data/cmvn.json
#   2 train                               -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/alignments, DIR/model.ckpt
#   3 synthesize the test texts           -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json (one thread)
#   4 score                               -> DIR/RESULTS.md: pocketsphinx with its general English LM on
#                                            the synthesized and the reference test sentences, our ding
#                                            ASR's WER when its model exists, MCD, alignment health, stop
#                                            rate, real-time factor
# Defaults: DIR = recipes/ding/tts/exp, FILE = conf/train.yaml (CPU; conf/train_gpu.yaml for one GPU).
# Finished stages are skipped on a rerun unless their inputs or config changed.
# Environment: DATA_DIR, CORPUS_OPTS (`speech prepare ding` options, e.g. --tts-train N),
# TRAIN_OPTS, DECODE_OPTS, ASR_MODEL (default the ding ASR recipe's model). The options, stages and
# variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/tts.sh
source "$recipes/lib/tts.sh"
manifests="$corpus/tts"
asr_model="$recipes/ding/asr/exp/model.ckpt"
score_opts=(--judge-lm general)

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare ding --out-dir "$corpus" --no-asr "${corpus_opts[@]}"
tts_stages
