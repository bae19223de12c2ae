# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with recipe.sh and the run.sh
# The stages of a speech recognition recipe (Listen-Attend-Spell), sourced by
# recipes/<corpus>/asr/run.sh after recipes/lib/recipe.sh; see recipes/README.md.
#
# A recipe runs its stage 0 itself (`run_stage 0 "prepare data" ... -- speech prepare CORPUS ...`,
# writing $manifests/{train,dev,test,...}.jsonl), sets what differs from the defaults below and
# calls asr_stages:
#   1 SentencePiece tokenizer and CMVN stats -> $data/tokenizer.json, $data/cmvn.json
#   2 train                                  -> $exp_dir/{checkpoints,tb,csv,config.yaml,model.ckpt}
#   3 decode test_sets, and the pocketsphinx peer peer_sets -> $exp_dir/decode_<set>[_pocketsphinx]/
#   4 score                                  -> $exp_dir/RESULTS.md
# A recipe with more stages calls the asr_*_stage functions itself, each given its stage number
# (recipes/ding/asr trains an RNN LM with asr_lm_stage before the recognizer).

vocab=500                   # SentencePiece pieces (VOCAB_SIZE overrides it)
dev_set=dev                 # the set validated on while training
test_sets=(dev test)        # the sets decoded at stage 3
decode_opts=(--threads 1)   # options of `speech transcribe` (DECODE_OPTS adds to them)
peer_sets=()                # the sets pocketsphinx decodes too (scored beside ours)
peer_lm_texts=""            # a manifest whose texts make the peer's LM (empty: its general English one)
score_opts=()               # options of `speech score report`, e.g. --normalize
lm_model=""                 # the RNN LM of shallow fusion (set by asr_lm_stage)

asr_stages() {
  asr_tokenizer_stage 1
  asr_cmvn_stage 1
  asr_train_stage 2
  asr_decode_stage 3
  asr_peer_stage 3
  asr_score_stage 4
}

# set_absent SET: stage 0 prepared the corpus without SET (an optional set, e.g. test_unseen with
# --unseen-voices ''): it is then neither decoded nor scored. Before stage 0 has run no set is
# absent, so a stage reading one fails and says which file is missing.
set_absent() {
  [[ ! -f "$manifests/$1.jsonl" && -f "$manifests/train.jsonl" ]]
}

asr_tokenizer_stage() {
  run_stage "$1" "tokenizer" --inputs "$manifests/train.jsonl" --outputs "$data/tokenizer.json" -- \
    speech prepare tokenizer --manifest "$manifests/train.jsonl" --out "$data/tokenizer.json" \
      --kind sentencepiece --vocab-size "${VOCAB_SIZE:-$vocab}"
}

asr_cmvn_stage() {
  cmvn_stage "$1" "CMVN stats" "$manifests/train.jsonl"
}

# asr_lm_stage N: an RNN LM on the training transcripts (LM_CONFIG, default conf/lm.yaml), for
# shallow fusion in asr_decode_stage -> $exp_dir/lm/model.ckpt
asr_lm_stage() {
  local lm_config="${LM_CONFIG:-$here/conf/lm.yaml}"
  lm_model="$exp_dir/lm/model.ckpt"
  run_stage "$1" "train LM" --resumable \
    --inputs "$lm_config" "$manifests/train.jsonl" "$manifests/$dev_set.jsonl" "$data/tokenizer.json" \
    --outputs "$exp_dir/lm" "$lm_model" -- \
    speech train lm --config "$lm_config" --exp-dir "$exp_dir/lm" --set data.train="$manifests/train.jsonl" \
      data.dev="$manifests/$dev_set.jsonl" data.tokenizer="$data/tokenizer.json"
}

asr_train_stage() {
  train_stage "$1" asr "$manifests/train.jsonl" "$manifests/$dev_set.jsonl" "$data/tokenizer.json" \
      "$data/cmvn.json" -- \
    --set data.train="$manifests/train.jsonl" data.dev="$manifests/$dev_set.jsonl" \
      data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json"
}

asr_decode_stage() {
  local set lm=()
  [[ -z "$lm_model" ]] || lm=(--lm "$lm_model")
  for set in "${test_sets[@]}"; do
    set_absent "$set" && continue
    run_stage "$1" "decode $set" --inputs "$exp_dir/model.ckpt" "${lm[@]:1}" "$manifests/$set.jsonl" \
      --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
      speech transcribe --model "$exp_dir/model.ckpt" "${lm[@]}" --manifest "$manifests/$set.jsonl" \
        --out "$exp_dir/decode_$set/hyp.txt" "${decode_opts[@]}" "${decode_extra[@]}"
  done
}

asr_peer_stage() {
  local set texts=() out
  [[ -z "$peer_lm_texts" ]] || texts=(--lm-texts "$peer_lm_texts")
  for set in "${peer_sets[@]}"; do
    set_absent "$set" && continue
    out="$exp_dir/decode_${set}_pocketsphinx"
    run_stage "$1" "pocketsphinx on $set" --inputs "$manifests/$set.jsonl" "${texts[@]:1}" \
      --outputs "$out" "$out/hyp.txt" -- \
      speech score asr-peer --manifest "$manifests/$set.jsonl" "${texts[@]}" --out "$out"
  done
}

asr_score_stage() {
  local set decoded=()
  for set in "${test_sets[@]}"; do
    set_absent "$set" || decoded+=("$exp_dir/decode_$set")
  done
  for set in "${peer_sets[@]}"; do
    set_absent "$set" || decoded+=("$exp_dir/decode_${set}_pocketsphinx")
  done
  run_stage "$1" "score" --inputs "${decoded[@]}" --outputs "$exp_dir/RESULTS.md" -- \
    speech score report --exp-dir "$exp_dir" "${score_opts[@]}"
}
