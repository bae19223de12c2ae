#!/usr/bin/env bash
# Direct speech translation on CoVoST 2 (French speech -> English text by default), with the stages
# of recipes/mini/st. The audio is the Common Voice (version 4) release of the source language.
#
# Usage: CORPUS_DIR=/data/cv-corpus-4 recipes/covost2/st/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare CoVoST 2 PAIR (the covost_v2.<src>_<tgt>.tsv table joined with the clips)
#                                    -> DATA/corpus/{train,dev,test}.jsonl
#   1 tokenizers (SentencePiece: source transcripts for the CTC loss, target translations) and
#     CMVN stats                     -> DATA/{source,target}_tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev and test            -> DIR/decode_{dev,test}/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)
# Defaults: DIR = recipes/covost2/st/exp/PAIR, FILE = conf/train.yaml (one GPU, bf16; see
# README.md), DATA = recipes/covost2/st/data/PAIR. Finished stages are skipped on a rerun unless
# their inputs or config changed.
# Environment: CORPUS_DIR, the Common Voice folder holding <src>/clips (needed by stage 0); PAIR
# (CoVoST's <src>_<tgt>, default fr_en; e.g. de_en, en_de, zh-CN_en); DATA_DIR; CORPUS_OPTS
# (`speech prepare covost2` options, e.g. --covost-dir DIR when the tables are elsewhere, --jobs 4);
# VOCAB_SIZE (default 1000); TRAIN_OPTS; DECODE_OPTS; ASR_MODEL (an ASR checkpoint with the
# config's features and listener sizes, e.g. recipes/librispeech/asr/exp/model.ckpt, whose encoder
# initialises the model). The options, stages and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/st.sh
source "$recipes/lib/st.sh"
pair="${PAIR:-fr_en}"
src="${pair%%_*}"
target_lang="${pair#*_}"
if [[ -z "$src" || -z "$target_lang" || "$pair" != *_* || "$target_lang" == *_* ]]; then
  recipe_error "PAIR must look like <src>_<tgt> (CoVoST's notation, e.g. fr_en), got '$pair'"
fi
recipe_dirs "$pair"
cmvn_utts=20000
decode_on_gpu 64
need_corpus_dir "the Common Voice folder (holding $src/clips/)"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare covost2 --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --src "$src" \
    --tgt "$target_lang" --quiet --jobs 8 "${corpus_opts[@]}"
st_stages
