#!/usr/bin/env bash
# Listen-Attend-Spell on LibriSpeech (960 h by default), with the stages of recipes/mini/asr.
#
# Usage: CORPUS_DIR=/data/LibriSpeech recipes/librispeech/asr/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare LibriSpeech            -> data/corpus/{train,dev-clean,test-clean,test-other}.jsonl
#   1 tokenizer (5000 word pieces) and CMVN stats -> data/tokenizer.json, data/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev-clean, test-clean, test-other -> DIR/decode_<set>/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (WER, CER, real-time factor)
# Defaults: DIR = recipes/librispeech/asr/exp, FILE = conf/train.yaml (one GPU, bf16; see README.md).
# Finished stages are skipped on a rerun unless their inputs or config changed.
# Environment: CORPUS_DIR, the LibriSpeech folder (needed by stage 0); DATA_DIR; CORPUS_OPTS
# (`speech prepare librispeech` options, e.g. --subsets train-clean-100,dev-clean,test-clean,test-other
# or --jobs 4); VOCAB_SIZE; TRAIN_OPTS; DECODE_OPTS. The options, stages and variables of every
# recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/asr.sh
source "$recipes/lib/asr.sh"
vocab=5000
cmvn_utts=20000
dev_set=dev-clean
test_sets=(dev-clean test-clean test-other)
decode_on_gpu 64
need_corpus_dir "the LibriSpeech folder (holding train-clean-100/, dev-clean/, ...)"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare librispeech --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --quiet \
    --subsets train-clean-100,train-clean-360,train-other-500,dev-clean,test-clean,test-other --jobs 8 \
    "${corpus_opts[@]}"
asr_stages
