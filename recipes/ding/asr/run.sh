#!/usr/bin/env bash
# Listen-Attend-Spell with joint CTC and RNN-LM shallow fusion on the ding corpus: open-vocabulary
# English sentences from Debian's Ding dictionary, spoken by flite and espeak-ng voices, scored
# beside pocketsphinx's general English model on the same audio, on the test voices and on a
# test_unseen split spoken only by voices (festival, held-out espeak-ng accents) absent from training.
#
# Usage: recipes/ding/asr/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the ding corpus (ASR part) -> data/corpus/{train,dev,test,test_unseen}.jsonl
#   1 SentencePiece tokenizer and CMVN stats -> data/tokenizer.json, data/cmvn.json
#   2 train the RNN LM on the training text  -> DIR/lm/model.ckpt
#   3 train the recognizer                   -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   4 decode dev, test and test_unseen (beam search, CTC, LM fusion) -> DIR/decode_<set>/{ref,hyp}.txt
#   5 the peer, pocketsphinx, on test and test_unseen -> DIR/decode_<set>_pocketsphinx/{ref,hyp}.txt
#   6 score                                  -> DIR/RESULTS.md (WER, CER, RTF; ours and the peer's)
# Defaults: DIR = recipes/ding/asr/exp, FILE = conf/train.yaml (CPU, 2 cores; conf/train_gpu.yaml
# for one GPU). Finished stages are skipped on a rerun unless their inputs or config changed.
# Environment: DATA_DIR (default recipes/ding/asr/data), CORPUS_OPTS (extra `speech prepare ding`
#   options, e.g. --voices, --unseen-voices), VOCAB_SIZE (SentencePiece pieces, default 500),
#   LM_CONFIG (default conf/lm.yaml), DECODE_OPTS (default "--lm-weight 0.2", tuned on dev).
#   TRAIN_OPTS: extra training config overrides, KEY=VALUE words (e.g. trainer.num_threads=1).
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"
split_words train_opts "${TRAIN_OPTS:-}"
split_words decode_opts "${DECODE_OPTS:---lm-weight 0.2}"
vocab="${VOCAB_SIZE:-500}"
lm_config="${LM_CONFIG:-$here/conf/lm.yaml}"
corpus="$data/corpus"

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare ding --out-dir "$corpus" --no-tts "${corpus_opts[@]}"

run_stage 1 "tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --out "$data/tokenizer.json" \
    --kind sentencepiece --vocab-size "$vocab"

run_stage 1 "CMVN stats" --inputs "$corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$corpus/train.jsonl" --out "$data/cmvn.json"

run_stage 2 "train LM" --resumable \
  --inputs "$lm_config" "$corpus/train.jsonl" "$corpus/dev.jsonl" "$data/tokenizer.json" \
  --outputs "$exp_dir/lm" "$exp_dir/lm/model.ckpt" -- \
  speech train lm --config "$lm_config" --exp-dir "$exp_dir/lm" --set \
    data.train="$corpus/train.jsonl" data.dev="$corpus/dev.jsonl" data.tokenizer="$data/tokenizer.json"

run_stage 3 "train" --resumable \
  --inputs "$config" "$corpus/train.jsonl" "$corpus/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train asr --config "$config" --exp-dir "$exp_dir" --set \
    data.train="$corpus/train.jsonl" data.dev="$corpus/dev.jsonl" \
    data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json" "${train_opts[@]}"

for set in dev test test_unseen; do
  [[ -f "$corpus/$set.jsonl" ]] || continue  # test_unseen: none with --unseen-voices ''
  run_stage 4 "decode $set" --inputs "$exp_dir/model.ckpt" "$exp_dir/lm/model.ckpt" "$corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech transcribe --model "$exp_dir/model.ckpt" --lm "$exp_dir/lm/model.ckpt" \
      --manifest "$corpus/$set.jsonl" --out "$exp_dir/decode_$set/hyp.txt" --threads 1 "${decode_opts[@]}"
done

for set in test test_unseen; do
  [[ -f "$corpus/$set.jsonl" ]] || continue
  run_stage 5 "pocketsphinx on $set" --inputs "$corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_${set}_pocketsphinx" "$exp_dir/decode_${set}_pocketsphinx/hyp.txt" -- \
    speech score asr-peer --manifest "$corpus/$set.jsonl" --out "$exp_dir/decode_${set}_pocketsphinx"
done

run_stage 6 "score" --inputs "$exp_dir/decode_dev" "$exp_dir/decode_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --normalize
