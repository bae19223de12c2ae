#!/usr/bin/env bash
# Direct speech translation on MuST-C (English TED talks -> German text by default), with the stages
# of recipes/mini/st.
#
# Usage: CORPUS_DIR=/data/MUST-C recipes/mustc/st/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare MuST-C PAIR: cut the segments of train, dev and the test sets out of the talks
#                                    -> DATA/corpus/<split>.jsonl, DATA/corpus/wav/<split>/*.wav
#   1 tokenizers (SentencePiece: English transcripts for the CTC loss, target translations) and
#     CMVN stats                     -> DATA/{source,target}_tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev and the test sets   -> DIR/decode_<set>/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)
# Defaults: DIR = recipes/mustc/st/exp/PAIR, FILE = conf/train.yaml (one GPU, bf16; see README.md),
# DATA = recipes/mustc/st/data/PAIR. Finished stages are skipped on a rerun unless their inputs or
# config changed.
# Environment: CORPUS_DIR, the folder holding PAIR/ (or PAIR/ itself; needed by stage 0); PAIR
# (en-<tgt>, default en-de); TEST_SETS (default "tst-COMMON tst-HE"); DATA_DIR; CORPUS_OPTS
# (`speech prepare mustc` options, e.g. --jobs 4); VOCAB_SIZE (default 8000); TRAIN_OPTS;
# DECODE_OPTS; ASR_MODEL (an ASR checkpoint with the config's features and listener sizes, e.g.
# recipes/librispeech/asr/exp/model.ckpt, whose encoder initialises the model). The options, stages
# and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/st.sh
source "$recipes/lib/st.sh"
pair="${PAIR:-en-de}"
target_lang="${pair#en-}"
if [[ "$pair" != en-* || -z "$target_lang" ]]; then
  recipe_error "PAIR must look like en-<tgt> (e.g. en-de), got '$pair'"
fi
recipe_dirs "$pair"
vocab=8000
cmvn_utts=20000
read -r -a test_sets <<< "dev ${TEST_SETS:-tst-COMMON tst-HE}"
splits="train$(printf ',%s' "${test_sets[@]}")"
decode_on_gpu 64
need_corpus_dir "the MuST-C folder (holding $pair/data/)"

# No --outputs: the cut segments are costly; `speech prepare mustc` keeps the cuts of an interrupted
# or changed run that have the right length, and skips itself when its options are unchanged.
run_stage 0 "prepare data" -- \
  speech prepare mustc --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --pair "$pair" --splits "$splits" \
    --quiet --jobs 8 "${corpus_opts[@]}"
st_stages
