# shellcheck shell=bash disable=SC2034,SC2154  # variables shared with recipe.sh and the run.sh
# The stages of a speech synthesis recipe (Tacotron2 and Griffin-Lim), sourced by
# recipes/<corpus>/tts/run.sh after recipes/lib/recipe.sh; see recipes/README.md.
#
# A recipe runs its stage 0 itself (`run_stage 0 "prepare data" ... -- speech prepare CORPUS ...`,
# writing $manifests/{train,dev,test}.jsonl), sets what differs from the defaults below and calls
# tts_stages:
#   1 tokenizer (characters of the normalised text, or espeak-ng phonemes: as the config's `text`
#     section says) and mel statistics     -> $data/tokenizer.json, $data/cmvn.json
#   2 train                                -> $exp_dir/{checkpoints,tb,csv,alignments,config.yaml,model.ckpt}
#   3 synthesize the test texts            -> $exp_dir/synth_test/*.wav, synth.jsonl, synth.stats.json
#   4 score                                -> $exp_dir/RESULTS.md

decode_opts=(--threads 1)  # options of `speech synthesize` (DECODE_OPTS adds to them)
train_set=()               # more KEY=VALUE overrides of training, e.g. data.multi_speaker=true
asr_model=""               # the ASR checkpoint that stage 4 scores with too, skipped when missing
                           # (ASR_MODEL overrides it; ASR_MODEL= scores without one)
score_opts=()              # options of `speech score tts`, e.g. --judge-lm general

tts_stages() {
  _tts_tokenizer_stage 1
  cmvn_stage 1 "mel stats" "$manifests/train.jsonl" --preset tts
  train_stage 2 tts "$manifests/train.jsonl" "$manifests/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" -- \
    --set data.train="$manifests/train.jsonl" data.dev="$manifests/dev.jsonl" \
      data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json" "${train_set[@]}"
  run_stage 3 "synthesize test" --inputs "$exp_dir/model.ckpt" "$manifests/test.jsonl" \
    --outputs "$exp_dir/synth_test" "$exp_dir/synth_test/synth.jsonl" -- \
    speech synthesize --model "$exp_dir/model.ckpt" --manifest "$manifests/test.jsonl" \
      --out-dir "$exp_dir/synth_test" "${decode_opts[@]}" "${decode_extra[@]}"
  local model="${ASR_MODEL-$asr_model}" asr=()
  [[ -z "$model" ]] || asr=(--asr-model "$model")
  run_stage 4 "score" --inputs "$exp_dir/synth_test" --outputs "$exp_dir/RESULTS.md" -- \
    speech score tts --synth-dir "$exp_dir/synth_test" --ref "$manifests/test.jsonl" \
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
