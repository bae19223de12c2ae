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
# Defaults: DIR = recipes/covost2/st/exp/PAIR, FILE = conf/train.yaml (one GPU, bf16; see README.md).
# Environment: CORPUS_DIR, the Common Voice folder holding <src>/clips (needed by stage 0);
# COVOST_DIR (folder of covost_v2.<src>_<tgt>.tsv, default CORPUS_DIR); PAIR (CoVoST's
# <src>_<tgt>, default fr_en; e.g. de_en, en_de, zh-CN_en); DATA_DIR (default
# recipes/covost2/st/data/PAIR); VOCAB_SIZE (target pieces, 1000); SOURCE_VOCAB_SIZE (source
# pieces, default VOCAB_SIZE); CMVN_UTTS (utterances for the statistics, 20000); PREP_JOBS (mp3
# header readers, 8); ASR_MODEL (an ASR checkpoint with the config's features and listener sizes,
# e.g. recipes/librispeech/asr/exp/model.ckpt, whose encoder initialises the model); DECODE_OPTS
# (default: --device cuda --batch-size 64 where nvidia-smi runs, else --threads 2).
# Finished stages are skipped on a rerun unless their inputs or config changed.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
pair="${PAIR:-fr_en}"
src="${pair%%_*}"
tgt="${pair#*_}"
if [[ -z "$src" || -z "$tgt" || "$pair" != *_* || "$tgt" == *_* ]]; then
  echo "$(basename "$0"): error: PAIR must look like <src>_<tgt> (CoVoST's notation, e.g. fr_en), got '$pair'" >&2
  exit 2
fi
exp_dir="${exp_dir:-$here/exp/$pair}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data/$pair}"
vocab="${VOCAB_SIZE:-1000}"
source_vocab="${SOURCE_VOCAB_SIZE:-$vocab}"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  split_words decode_opts "${DECODE_OPTS:---device cuda --batch-size 64}"
else
  split_words decode_opts "${DECODE_OPTS:---threads 2}"
fi
if (( stage <= 0 && 0 <= stop_stage )) && [[ -z "${CORPUS_DIR:-}" ]]; then
  echo "$(basename "$0"): error: set CORPUS_DIR to the Common Voice folder (holding $src/clips/)" >&2
  exit 2
fi
corpus="$data/corpus"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare covost2 --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --src "$src" --tgt "$tgt" \
    --covost-dir "${COVOST_DIR:-${CORPUS_DIR:-}}" --quiet --jobs "${PREP_JOBS:-8}"

run_stage 1 "source tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/source_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --field text \
    --out "$data/source_tokenizer.json" --kind sentencepiece --vocab-size "$source_vocab"

run_stage 1 "target tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/target_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --field translation \
    --out "$data/target_tokenizer.json" --kind sentencepiece --vocab-size "$vocab"

run_stage 1 "CMVN stats" --inputs "$corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$corpus/train.jsonl" --out "$data/cmvn.json" \
    --max-utterances "${CMVN_UTTS:-20000}"

init=()
[[ -z "${ASR_MODEL:-}" ]] || init=(--init-encoder-from "$ASR_MODEL")
run_stage 2 "train" --resumable --inputs "$config" "$corpus/train.jsonl" "$corpus/dev.jsonl" \
    "$data/source_tokenizer.json" "$data/target_tokenizer.json" "$data/cmvn.json" "${init[@]:1}" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train st --config "$config" --exp-dir "$exp_dir" "${init[@]}" --set \
    data.train="$corpus/train.jsonl" data.dev="$corpus/dev.jsonl" data.target_lang="$tgt" \
    data.target_tokenizer="$data/target_tokenizer.json" data.source_tokenizer="$data/source_tokenizer.json" \
    data.cmvn="$data/cmvn.json"

for set in dev test; do
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech translate --model "$exp_dir/model.ckpt" --manifest "$corpus/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" "${decode_opts[@]}"
done

run_stage 4 "score" --inputs "$exp_dir/decode_dev" "$exp_dir/decode_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --metric bleu
