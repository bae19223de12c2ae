#!/usr/bin/env bash
# Direct speech translation on the built-in mini corpus: English speech -> French text (German
# with conf/train_de.yaml), the encoder initialised from the mini ASR model when there is one.
#
# Usage: recipes/mini/st/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the mini corpus (shared with recipes/mini/asr) -> DATA/corpus/{train,dev,test}.jsonl (fr),
#                                                               DATA/corpus/de/*.jsonl (de)
#   1 target tokenizer (64 word pieces); the source tokenizer and CMVN stats when the ASR recipe
#     has not made them              -> DATA/st_tokenizer_LANG.json, DATA/tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev and test            -> DIR/decode_{dev,test}/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)
# Defaults: DIR = recipes/mini/st/exp, FILE = conf/train.yaml, DATA = recipes/mini/asr/data (the
# ASR recipe's, so corpus, source tokenizer and CMVN stats are shared); LANG is the config's
# data.target_lang. To initialise the encoder from a new ASR model, run recipes/mini/asr/run.sh
# --stop-stage 2 first.
# Environment: DATA_DIR, CORPUS_OPTS (`speech prepare mini` options), VOCAB_SIZE, TRAIN_OPTS,
# DECODE_OPTS, ASR_MODEL (default recipes/mini/asr/exp/model.ckpt when it exists; ASR_MODEL=
# trains from scratch). The options, stages and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/st.sh
source "$recipes/lib/st.sh"
data="${DATA_DIR:-$recipes/mini/asr/data}"
corpus="$data/corpus"
lang="$(speech config get --task st --config "$config" data.target_lang)"
manifests="$corpus"
[[ "$lang" == fr ]] || manifests="$corpus/$lang"
source_tokenizer="$data/tokenizer.json"
target_tokenizer="$data/st_tokenizer_$lang.json"
shared_asr_data=1
vocab=64
asr_model="$recipes/mini/asr/exp/model.ckpt"

# No --outputs: the corpus may be the ASR recipe's; `speech prepare mini` itself skips a complete one.
run_stage 0 "prepare data" -- speech prepare mini --out-dir "$corpus" --no-tts "${corpus_opts[@]}"
st_stages
