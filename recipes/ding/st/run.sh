#!/usr/bin/env bash
# Direct speech translation on the ding corpus: English sentences from Debian's Ding dictionary,
# spoken by flite and espeak-ng voices, translated into German text. conf/train.yaml is the CPU
# config (the encoder initialised from the ding ASR model), conf/train_gpu.yaml is sized for one
# GPU; conf/smoke.yaml runs every stage on a CPU in a few minutes.
#
# Usage: recipes/ding/st/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the ding corpus        -> data/corpus/{train,dev,test}.jsonl
#   1 tokenizers (SentencePiece, English transcripts and German translations) and CMVN stats
#                                    -> data/{source,target}_tokenizer.json, data/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev and test            -> DIR/decode_{dev,test}/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)
# Defaults: DIR = recipes/ding/st/exp, FILE = conf/train.yaml. Finished stages are skipped on a
# rerun unless their inputs or config changed.
# Environment: DATA_DIR, CORPUS_OPTS (`speech prepare ding` options), VOCAB_SIZE (default 1000),
# TRAIN_OPTS, DECODE_OPTS, ASR_MODEL (default recipes/ding/asr/exp/model.ckpt when it exists;
# ASR_MODEL= trains from scratch). The options, stages and variables of every recipe:
# recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/st.sh
source "$recipes/lib/st.sh"
asr_model="$recipes/ding/asr/exp/model.ckpt"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare ding --out-dir "$corpus" --no-tts "${corpus_opts[@]}"
st_stages
