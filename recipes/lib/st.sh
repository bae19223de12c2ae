# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with recipe.sh and the run.sh
# The stages of a direct speech translation recipe (one listener-speller model with an auxiliary
# CTC loss on the source transcripts), sourced by recipes/<corpus>/st/run.sh after
# recipes/lib/recipe.sh; see recipes/README.md.
#
# A recipe runs its stage 0 itself (`run_stage 0 "prepare data" ... -- speech prepare CORPUS ...`,
# writing $manifests/{train,dev,test,...}.jsonl), sets what differs from the defaults below and
# calls st_stages:
#   1 SentencePiece tokenizers (source transcripts, target translations) and CMVN stats
#                      -> source_tokenizer, target_tokenizer, $data/cmvn.json
#   2 train, the encoder initialised from an ASR model when there is one
#                      -> $exp_dir/{checkpoints,tb,csv,config.yaml,model.ckpt}
#   3 decode test_sets -> $exp_dir/decode_<set>/{ref,hyp}.txt
#   4 score            -> $exp_dir/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)

vocab=1000                 # SentencePiece pieces of each tokenizer (VOCAB_SIZE overrides it)
source_tokenizer=""        # default $data/source_tokenizer.json
target_tokenizer=""        # default $data/target_tokenizer.json
shared_asr_data=""         # 1: $data is an ASR recipe's, whose source tokenizer and CMVN stats are
                           # made only when missing, never replaced (its model was trained with them)
target_lang=""             # when set, training sets data.target_lang to it
asr_model=""               # the ASR checkpoint whose encoder initialises the model, when it exists
                           # (ASR_MODEL overrides it and must exist; ASR_MODEL= trains from scratch)
train_set=()               # more KEY=VALUE overrides of training
test_sets=(dev test)       # the sets decoded at stage 3
decode_opts=(--threads 1)  # options of `speech translate` (DECODE_OPTS adds to them)

st_stages() {
  local vocab_size="${VOCAB_SIZE:-$vocab}"
  local src_tok="${source_tokenizer:-$data/source_tokenizer.json}"
  local tgt_tok="${target_tokenizer:-$data/target_tokenizer.json}"
  # The source side (transcripts and audio) is the same in every target language: $corpus.
  if [[ -z "$shared_asr_data" || ! -f "$src_tok" ]]; then
    run_stage 1 "source tokenizer" --inputs "$corpus/train.jsonl" --outputs "$src_tok" -- \
      speech prepare tokenizer --manifest "$corpus/train.jsonl" --field text --out "$src_tok" \
        --kind sentencepiece --vocab-size "$vocab_size"
  fi
  run_stage 1 "target tokenizer" --inputs "$manifests/train.jsonl" --outputs "$tgt_tok" -- \
    speech prepare tokenizer --manifest "$manifests/train.jsonl" --field translation --out "$tgt_tok" \
      --kind sentencepiece --vocab-size "$vocab_size"
  if [[ -z "$shared_asr_data" || ! -f "$data/cmvn.json" ]]; then
    cmvn_stage 1 "CMVN stats" "$corpus/train.jsonl"
  fi

  local model="${ASR_MODEL-}" init=() target=()
  [[ -n "${ASR_MODEL+set}" || ! -f "$asr_model" ]] || model="$asr_model"
  [[ -z "${INIT_FROM:-}" ]] || model=""  # a fine-tune starts from the whole ST model instead
  [[ -z "$model" ]] || init=(--init-encoder-from "$model")
  [[ -z "$target_lang" ]] || target=(data.target_lang="$target_lang")
  train_stage 2 st "$manifests/train.jsonl" "$manifests/dev.jsonl" "$src_tok" "$tgt_tok" "$data/cmvn.json" \
      "${init[@]:1}" -- \
    "${init[@]}" --set data.train="$manifests/train.jsonl" data.dev="$manifests/dev.jsonl" "${target[@]}" \
      data.target_tokenizer="$tgt_tok" data.source_tokenizer="$src_tok" data.cmvn="$data/cmvn.json" \
      "${train_set[@]}"

  local set decoded=()
  for set in "${test_sets[@]}"; do
    run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$manifests/$set.jsonl" \
      --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
      speech translate --model "$exp_dir/model.ckpt" --manifest "$manifests/$set.jsonl" \
        --out "$exp_dir/decode_$set/hyp.txt" "${decode_opts[@]}" "${decode_extra[@]}"
    decoded+=("$exp_dir/decode_$set")
  done
  run_stage 4 "score" --inputs "${decoded[@]}" --outputs "$exp_dir/RESULTS.md" -- \
    speech score report --exp-dir "$exp_dir" --metric bleu
}
