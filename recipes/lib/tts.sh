# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with recipe.sh and the run.sh
# The stages of a speech synthesis recipe (Tacotron2, Griffin-Lim and a neural vocoder), sourced
# by recipes/<corpus>/tts/run.sh after recipes/lib/recipe.sh; see recipes/README.md.
#
# A recipe runs its stage 0 itself (`run_stage 0 "prepare data" ... -- speech prepare CORPUS ...`,
# writing $manifests/{train,dev,test}.jsonl), sets what differs from the defaults below and calls
# tts_stages:
#   1 tokenizer (characters of the normalised text, or espeak-ng phonemes: as the config's `text`
#     section says) and mel statistics     -> $data/tokenizer.json, $data/cmvn.json
#   2 train                                -> $exp_dir/{checkpoints,tb,csv,alignments,config.yaml,model.ckpt}
#     train vocoder (with a vocoder config) -> $exp_dir/vocoder/{checkpoints,samples,...,model.ckpt}
#   3 synthesize the test texts            -> $exp_dir/synth_test/ (Griffin-Lim), synth_test_vocoder/
#   4 score                                -> $exp_dir/RESULTS.md (each vocoder, from text and as
#                                             copy-synthesis of the recordings, beside them)
# The vocoder config is conf/vocoder.yaml when the recipe has one (VOCODER_CONFIG names another;
# VOCODER_CONFIG= keeps Griffin-Lim alone); VOCODER_OPTS adds KEY=VALUE overrides to its training.

decode_opts=(--threads 1)  # options of `speech synthesize` (DECODE_OPTS adds to them)
train_set=()               # more KEY=VALUE overrides of training, e.g. data.multi_speaker=true
asr_model=""               # the ASR checkpoint that stage 4 scores with too, skipped when missing
                           # (ASR_MODEL overrides it; ASR_MODEL= scores without one)
score_opts=()              # options of `speech score tts`, e.g. --judge-lm general
vocoder_config="${VOCODER_CONFIG-$here/conf/vocoder.yaml}"
read -r -a vocoder_opts <<< "${VOCODER_OPTS:-}"

tts_stages() {
  if [[ -n "$vocoder_config" && ! -f "$vocoder_config" && "$vocoder_config" != "$here/conf/vocoder.yaml" ]]; then
    recipe_error "VOCODER_CONFIG=$vocoder_config: no such file"
  fi
  _tts_tokenizer_stage 1
  cmvn_stage 1 "mel stats" "$manifests/train.jsonl" --preset tts
  train_stage 2 tts "$manifests/train.jsonl" "$manifests/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" -- \
    --set data.train="$manifests/train.jsonl" data.dev="$manifests/dev.jsonl" \
      data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json" "${train_set[@]}"
  local vocoder="" synth_dirs=(--synth-dir "$exp_dir/synth_test") copy=(--copy-synthesis)
  if [[ -n "$vocoder_config" && -f "$vocoder_config" ]]; then
    vocoder="$exp_dir/vocoder/model.ckpt"
    run_stage 2 "train vocoder" --resumable --inputs "$vocoder_config" "$manifests/train.jsonl" \
      "$manifests/dev.jsonl" --outputs "$exp_dir/vocoder" -- \
      speech train vocoder --config "$vocoder_config" --exp-dir "$exp_dir/vocoder" \
        --set data.train="$manifests/train.jsonl" data.dev="$manifests/dev.jsonl" "${vocoder_opts[@]}"
  fi
  run_stage 3 "synthesize test" --inputs "$exp_dir/model.ckpt" "$manifests/test.jsonl" \
    --outputs "$exp_dir/synth_test" "$exp_dir/synth_test/synth.jsonl" -- \
    speech synthesize --model "$exp_dir/model.ckpt" --manifest "$manifests/test.jsonl" \
      --out-dir "$exp_dir/synth_test" "${decode_opts[@]}" "${decode_extra[@]}"
  if [[ -n "$vocoder" ]]; then
    run_stage 3 "synthesize test with the vocoder" --inputs "$exp_dir/model.ckpt" "$vocoder" \
      "$manifests/test.jsonl" --outputs "$exp_dir/synth_test_vocoder" "$exp_dir/synth_test_vocoder/synth.jsonl" -- \
      speech synthesize --model "$exp_dir/model.ckpt" --vocoder "$vocoder" --manifest "$manifests/test.jsonl" \
        --out-dir "$exp_dir/synth_test_vocoder" "${decode_opts[@]}" "${decode_extra[@]}"
    synth_dirs+=(--synth-dir "$exp_dir/synth_test_vocoder")
    copy=(--vocoder "$vocoder")
  fi
  local model="${ASR_MODEL-$asr_model}" asr=()
  [[ -z "$model" ]] || asr=(--asr-model "$model")
  run_stage 4 "score" --inputs "$exp_dir/synth_test" ${vocoder:+"$exp_dir/synth_test_vocoder" "$vocoder"} \
    --outputs "$exp_dir/RESULTS.md" -- \
    speech score tts "${synth_dirs[@]}" --ref "$manifests/test.jsonl" "${copy[@]}" \
      --train "$manifests/train.jsonl" "${asr[@]}" "${score_opts[@]}" --out "$exp_dir/RESULTS.md"
}

# The tokenizer's symbols follow the text front end of the config (with TRAIN_OPTS applied), as
# training reads it: the normaliser's language, and espeak-ng phonemes or characters.
_tts_tokenizer_stage() {
  stage_selected "$1" || return 0  # reading the config takes a few seconds
  local overrides=() values text name=tokenizer options
  [[ ${#train_opts[@]} -eq 0 ]] || overrides=(--set "${train_opts[@]}")
  values="$(speech config get --task tts --config "$config" "${overrides[@]}" text.lang text.phonemes \
    text.phoneme_lang)"
  mapfile -t text <<< "$values"
  options=(--kind char --lang "${text[0]}")
  if [[ "${text[1]}" == true ]]; then
    name="phoneme tokenizer"
    options+=(--phonemes)
    [[ -z "${text[2]:-}" ]] || options+=(--phoneme-lang "${text[2]}")
  fi
  run_stage "$1" "$name" --inputs "$manifests/train.jsonl" --outputs "$data/tokenizer.json" -- \
    speech prepare tokenizer --manifest "$manifests/train.jsonl" --out "$data/tokenizer.json" "${options[@]}"
}
