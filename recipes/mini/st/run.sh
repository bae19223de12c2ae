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
# Defaults: DIR = recipes/mini/st/exp, FILE = conf/train.yaml; LANG is the config's data.target_lang.
# Environment: DATA_DIR (default: the ASR recipe's data folder, so corpus, source tokenizer and
#   CMVN stats are shared), CORPUS_OPTS (extra `speech prepare mini` options), ASR_EXP_DIR (default
#   recipes/mini/asr/exp; stage 2 initialises the encoder from its model.ckpt when it exists),
#   ASR_INIT=0 (train from scratch), BUILD_ASR=1 (first run recipes/mini/asr/run.sh up to its
#   training stage, with ASR_CONFIG when set, so that the ASR model exists).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$(cd "$here/../asr" && pwd)/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"
asr_exp="${ASR_EXP_DIR:-$(cd "$here/../asr" && pwd)/exp}"
lang="$("$PYTHON" -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])) or {}
print((c.get("data") or {}).get("target_lang", "fr"))' "$config")"
manifests="$data/corpus"
[[ "$lang" == fr ]] || manifests="$data/corpus/$lang"
target_tokenizer="$data/st_tokenizer_$lang.json"

if [[ "${BUILD_ASR:-0}" == 1 ]] && (( stage <= 2 && stop_stage >= 2 )); then
  # Before stage 0: the ASR recipe's stage 0 owns the shared corpus folder.
  asr_opts=(--stop-stage 2 --exp-dir "$asr_exp")
  [[ -z "${ASR_CONFIG:-}" ]] || asr_opts+=(--config "$ASR_CONFIG")
  DATA_DIR="$data" bash "$here/../asr/run.sh" "${asr_opts[@]}"
fi

# No --outputs: the corpus may be the ASR recipe's; `speech prepare mini` itself skips a complete one.
run_stage 0 "prepare data" -- speech prepare mini --out-dir "$data/corpus" --no-tts "${corpus_opts[@]}"

run_stage 1 "target tokenizer" --inputs "$manifests/train.jsonl" --outputs "$target_tokenizer" -- \
  speech prepare tokenizer --manifest "$manifests/train.jsonl" --field translation \
    --out "$target_tokenizer" --kind sentencepiece --vocab-size 64

# The source tokenizer and CMVN stats are the ASR recipe's when it has made them (its model was
# trained with them): made here only when missing, so that they are never replaced.
if [[ ! -f "$data/tokenizer.json" ]]; then
  run_stage 1 "source tokenizer" --inputs "$data/corpus/train.jsonl" --outputs "$data/tokenizer.json" -- \
    speech prepare tokenizer --manifest "$data/corpus/train.jsonl" --out "$data/tokenizer.json" \
      --kind sentencepiece --vocab-size 64
fi
if [[ ! -f "$data/cmvn.json" ]]; then
  run_stage 1 "CMVN stats" --inputs "$data/corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
    speech prepare cmvn --manifest "$data/corpus/train.jsonl" --out "$data/cmvn.json"
fi

init=()
if [[ "${ASR_INIT:-1}" != 0 && -f "$asr_exp/model.ckpt" ]]; then
  init=(--init-encoder-from "$asr_exp/model.ckpt")
fi
run_stage 2 "train" --resumable --inputs "$config" "$manifests/train.jsonl" "$manifests/dev.jsonl" \
    "$target_tokenizer" "$data/tokenizer.json" "$data/cmvn.json" "${init[@]:1}" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train st --config "$config" --exp-dir "$exp_dir" "${init[@]}" --set \
    data.train="$manifests/train.jsonl" data.dev="$manifests/dev.jsonl" data.target_tokenizer="$target_tokenizer" \
    data.source_tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json"

for set in dev test; do
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$manifests/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech translate --model "$exp_dir/model.ckpt" --manifest "$manifests/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" --threads 1
done

run_stage 4 "score" --inputs "$exp_dir/decode_dev" "$exp_dir/decode_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --metric bleu
