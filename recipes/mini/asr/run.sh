#!/usr/bin/env bash
# Listen-Attend-Spell on the built-in mini corpus (spoken English numbers, 64 flite and espeak-ng
# voices; test_unseen is spoken only by 7 voices absent from training: festival and held-out
# espeak-ng accents).
#
# Usage: recipes/mini/asr/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the mini corpus        -> data/corpus/{train,dev,test,test_unseen}.jsonl
#   1 tokenizer (64 word pieces) and CMVN stats -> data/tokenizer.json, data/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev, test and test_unseen -> DIR/decode_<set>/{ref,hyp}.txt; the peer, pocketsphinx
#     with a numbers language model made from the training texts, on test and test_unseen
#                                    -> DIR/decode_<set>_pocketsphinx/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (WER, CER, real-time factor; ours and the peer's)
# Defaults: DIR = recipes/mini/asr/exp, FILE = conf/train.yaml. Finished stages are skipped
# on a rerun unless their inputs or config changed.
# Environment: DATA_DIR, CORPUS_OPTS (`speech prepare mini` options), VOCAB_SIZE, TRAIN_OPTS,
# DECODE_OPTS. The options, stages and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/asr.sh
source "$recipes/lib/asr.sh"
vocab=64
test_sets=(dev test test_unseen)
peer_sets=(test test_unseen)
peer_lm_texts="$manifests/train.jsonl"  # a numbers language model for pocketsphinx
score_opts=(--normalize)

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare mini --out-dir "$corpus" --no-tts "${corpus_opts[@]}"
asr_stages
