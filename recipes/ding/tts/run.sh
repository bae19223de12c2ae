#!/usr/bin/env bash
# Tacotron2 with phoneme input on the ding corpus: open-vocabulary English sentences from Debian's
# Ding dictionary in one flite voice (slt, 22.05 kHz). The test sentences are unseen text.
#
# Usage: recipes/ding/tts/run.sh [--stage N] [--stop-stage M] [--exp-dir DIR] [--config FILE]
#   0 prepare the ding corpus (TTS part)  -> data/corpus/tts/{train,dev,test}.jsonl
#   1 phoneme tokenizer (espeak-ng IPA of the normalised text) and mel statistics
#                                         -> data/tokenizer.json, data/cmvn.json
#   2 train                               -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/alignments, DIR/model.ckpt
#   3 synthesize the test texts           -> DIR/synth_test/*.wav, synth.jsonl, synth.stats.json (one thread)
#   4 score                               -> DIR/RESULTS.md: pocketsphinx with its general English LM on
#                                            the synthesized and the reference test sentences, our ding
#                                            ASR's WER when its model exists, MCD, alignment health, stop
#                                            rate, real-time factor
# Defaults: DIR = recipes/ding/tts/exp, FILE = conf/train.yaml (CPU; conf/train_gpu.yaml for one GPU).
# Environment: DATA_DIR (default recipes/ding/tts/data), CORPUS_OPTS (extra `speech prepare ding`
#   options, e.g. --tts-train N), ASR_MODEL (default the ding ASR recipe's model).
#   TRAIN_OPTS: extra training config overrides, KEY=VALUE words (e.g. trainer.num_threads=1).
# Finished stages are skipped on a rerun unless their inputs or config changed.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
exp_dir="${exp_dir:-$here/exp}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data}"
split_words corpus_opts "${CORPUS_OPTS:-}"
split_words train_opts "${TRAIN_OPTS:-}"
asr_model="${ASR_MODEL:-$(dirname "$here")/asr/exp/model.ckpt}"
tts="$data/corpus/tts"

run_stage 0 "prepare data" --outputs "$data/corpus" -- \
  speech prepare ding --out-dir "$data/corpus" --no-asr "${corpus_opts[@]}"

run_stage 1 "phoneme tokenizer" --inputs "$tts/train.jsonl" --outputs "$data/tokenizer.json" -- \
  speech prepare tokenizer --manifest "$tts/train.jsonl" --out "$data/tokenizer.json" --kind char \
    --lang en --phonemes

run_stage 1 "mel stats" --inputs "$tts/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --preset tts --manifest "$tts/train.jsonl" --out "$data/cmvn.json"

run_stage 2 "train" --resumable \
  --inputs "$config" "$tts/train.jsonl" "$tts/dev.jsonl" "$data/tokenizer.json" "$data/cmvn.json" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train tts --config "$config" --exp-dir "$exp_dir" --set \
    data.train="$tts/train.jsonl" data.dev="$tts/dev.jsonl" \
    data.tokenizer="$data/tokenizer.json" data.cmvn="$data/cmvn.json" "${train_opts[@]}"

run_stage 3 "synthesize test" --inputs "$exp_dir/model.ckpt" "$tts/test.jsonl" \
  --outputs "$exp_dir/synth_test" "$exp_dir/synth_test/synth.jsonl" -- \
  speech synthesize --model "$exp_dir/model.ckpt" --manifest "$tts/test.jsonl" --out-dir "$exp_dir/synth_test" \
    --threads 1

run_stage 4 "score" --inputs "$exp_dir/synth_test" --outputs "$exp_dir/RESULTS.md" -- \
  speech score tts --synth-dir "$exp_dir/synth_test" --ref "$tts/test.jsonl" --train "$tts/train.jsonl" \
    --asr-model "$asr_model" --judge-lm general --out "$exp_dir/RESULTS.md"
