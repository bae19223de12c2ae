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
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"

run_stage 0 "prepare data" --outputs "$data/corpus" -- \
  speech prepare mini --out-dir "$data/corpus" --no-tts "${corpus_opts[@]}"

run_stage 1 "tokenizer" --inputs "$data/corpus/train.jsonl" --outputs "$data/tokenizer.json" -- \
  speech prepare tokenizer --manifest "$data/corpus/train.jsonl" --out "$data/tokenizer.json" \
    --kind sentencepiece --vocab-size 64

run_stage 1 "CMVN stats" --inputs "$data/corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$data/corpus/train.jsonl" --out "$data/cmvn.json"

run_stage 2 "train" --resumable \
  --inputs "$config" "$data/corpus/train.jsonl" "$data/corpus/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train asr --config "$config" --exp-dir "$exp_dir" --set \
    data.train="$data/corpus/train.jsonl" data.dev="$data/corpus/dev.jsonl" \
    data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json"

for set in dev test test_unseen; do
  [[ -f "$data/corpus/$set.jsonl" ]] || continue  # test_unseen: none with --unseen-voices ''
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$data/corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech transcribe --model "$exp_dir/model.ckpt" --manifest "$data/corpus/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" --threads 1
done

for set in test test_unseen; do
  [[ -f "$data/corpus/$set.jsonl" ]] || continue
  run_stage 3 "pocketsphinx on $set" --inputs "$data/corpus/$set.jsonl" "$data/corpus/train.jsonl" \
    --outputs "$exp_dir/decode_${set}_pocketsphinx" "$exp_dir/decode_${set}_pocketsphinx/hyp.txt" -- \
    speech score asr-peer --manifest "$data/corpus/$set.jsonl" --lm-texts "$data/corpus/train.jsonl" \
      --out "$exp_dir/decode_${set}_pocketsphinx"
done

run_stage 4 "score" --inputs "$exp_dir/decode_dev" "$exp_dir/decode_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --normalize
