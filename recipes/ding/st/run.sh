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
# Defaults: DIR = recipes/ding/st/exp, FILE = conf/train.yaml.
# Environment: DATA_DIR (default recipes/ding/st/data), CORPUS_OPTS (extra `speech prepare ding`
#   options), VOCAB_SIZE (SentencePiece pieces of each tokenizer, default 1000), ASR_MODEL (an ASR
#   checkpoint with the config's features and listener sizes whose encoder initialises the model;
#   default recipes/ding/asr/exp/model.ckpt when it exists; ASR_MODEL= trains from scratch).
#   TRAIN_OPTS: extra training config overrides, KEY=VALUE words (e.g. trainer.num_threads=1).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"
split_words train_opts "${TRAIN_OPTS:-}"
vocab="${VOCAB_SIZE:-1000}"

run_stage 0 "prepare data" --outputs "$data/corpus" -- \
  speech prepare ding --out-dir "$data/corpus" --no-tts "${corpus_opts[@]}"

run_stage 1 "source tokenizer" --inputs "$data/corpus/train.jsonl" --outputs "$data/source_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$data/corpus/train.jsonl" --field text \
    --out "$data/source_tokenizer.json" --kind sentencepiece --vocab-size "$vocab"

run_stage 1 "target tokenizer" --inputs "$data/corpus/train.jsonl" --outputs "$data/target_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$data/corpus/train.jsonl" --field translation \
    --out "$data/target_tokenizer.json" --kind sentencepiece --vocab-size "$vocab"

run_stage 1 "CMVN stats" --inputs "$data/corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$data/corpus/train.jsonl" --out "$data/cmvn.json"

asr_model="${ASR_MODEL-}"  # given: used (a missing file is an error); unset: the ding ASR model if trained
[[ -n "${ASR_MODEL+set}" || ! -f "$(dirname "$here")/asr/exp/model.ckpt" ]] || asr_model="$(dirname "$here")/asr/exp/model.ckpt"
init=()
[[ -z "$asr_model" ]] || init=(--init-encoder-from "$asr_model")
run_stage 2 "train" --resumable --inputs "$config" "$data/corpus/train.jsonl" "$data/corpus/dev.jsonl" \
    "$data/source_tokenizer.json" "$data/target_tokenizer.json" "$data/cmvn.json" "${init[@]:1}" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train st --config "$config" --exp-dir "$exp_dir" "${init[@]}" --set \
    data.train="$data/corpus/train.jsonl" data.dev="$data/corpus/dev.jsonl" \
    data.target_tokenizer="$data/target_tokenizer.json" data.source_tokenizer="$data/source_tokenizer.json" \
    data.cmvn="$data/cmvn.json" "${train_opts[@]}"

for set in dev test; do
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$data/corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech translate --model "$exp_dir/model.ckpt" --manifest "$data/corpus/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" --threads 1
done

run_stage 4 "score" --inputs "$exp_dir/decode_dev" "$exp_dir/decode_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --metric bleu
