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
# Environment: CORPUS_DIR, the LibriSpeech folder (needed by stage 0); TRAIN_SUBSETS (default
# train-clean-100,train-clean-360,train-other-500); DATA_DIR (default recipes/librispeech/asr/data);
# VOCAB_SIZE (5000); CMVN_UTTS (utterances for the statistics, 20000); PREP_JOBS (header readers, 8);
# DECODE_OPTS (default: --device cuda --batch-size 64 where nvidia-smi runs, else --threads 2).
# Finished stages are skipped on a rerun unless their inputs or config changed.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
train_subsets="${TRAIN_SUBSETS:-train-clean-100,train-clean-360,train-other-500}"
test_sets=(dev-clean test-clean test-other)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  split_words decode_opts "${DECODE_OPTS:---device cuda --batch-size 64}"
else
  split_words decode_opts "${DECODE_OPTS:---threads 2}"
fi
if (( stage <= 0 && 0 <= stop_stage )) && [[ -z "${CORPUS_DIR:-}" ]]; then
  echo "$(basename "$0"): error: set CORPUS_DIR to the LibriSpeech folder (holding train-clean-100/, dev-clean/, ...)" >&2
  exit 2
fi

run_stage 0 "prepare data" --outputs "$data/corpus" -- \
  speech prepare librispeech --corpus-dir "${CORPUS_DIR:-}" --out-dir "$data/corpus" --quiet \
    --subsets "$train_subsets,dev-clean,test-clean,test-other" --jobs "${PREP_JOBS:-8}"

run_stage 1 "tokenizer" --inputs "$data/corpus/train.jsonl" --outputs "$data/tokenizer.json" -- \
  speech prepare tokenizer --manifest "$data/corpus/train.jsonl" --out "$data/tokenizer.json" \
    --kind sentencepiece --vocab-size "${VOCAB_SIZE:-5000}"

run_stage 1 "CMVN stats" --inputs "$data/corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$data/corpus/train.jsonl" --out "$data/cmvn.json" \
    --max-utterances "${CMVN_UTTS:-20000}"

run_stage 2 "train" --resumable \
  --inputs "$config" "$data/corpus/train.jsonl" "$data/corpus/dev-clean.jsonl" "$data/tokenizer.json" \
    "$data/cmvn.json" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train asr --config "$config" --exp-dir "$exp_dir" --set \
    data.train="$data/corpus/train.jsonl" data.dev="$data/corpus/dev-clean.jsonl" \
    data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json"

for set in "${test_sets[@]}"; do
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$data/corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech transcribe --model "$exp_dir/model.ckpt" --manifest "$data/corpus/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" "${decode_opts[@]}"
done

decode_dirs=()
for set in "${test_sets[@]}"; do decode_dirs+=("$exp_dir/decode_$set"); done
run_stage 4 "score" --inputs "${decode_dirs[@]}" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir"
