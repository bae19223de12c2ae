#!/usr/bin/env bash
# Direct speech translation on MuST-C (English TED talks -> German text by default), with the stages
# of recipes/mini/st.
#
# Usage: CORPUS_DIR=/data/MUST-C recipes/mustc/st/run.sh [--stage N] [--stop-stage M]
#          [--exp-dir DIR] [--config FILE]
#   0 prepare MuST-C PAIR: cut the segments of train, dev and the test sets out of the talks
#                                    -> DATA/corpus/<split>.jsonl, DATA/corpus/wav/<split>/*.wav
#   1 tokenizers (SentencePiece: English transcripts for the CTC loss, target translations) and
#     CMVN stats                     -> DATA/{source,target}_tokenizer.json, DATA/cmvn.json
#   2 train                          -> DIR/checkpoints, DIR/tb, DIR/csv, DIR/model.ckpt
#   3 decode dev and the test sets   -> DIR/decode_<set>/{ref,hyp}.txt
#   4 score                          -> DIR/RESULTS.md (BLEU, chrF, exact-match rate, real-time factor)
# Defaults: DIR = recipes/mustc/st/exp/PAIR, FILE = conf/train.yaml (one GPU, bf16; see README.md).
# Environment: CORPUS_DIR, the folder holding PAIR/ (or PAIR/ itself; needed by stage 0); PAIR
# (en-<tgt>, default en-de); TEST_SETS (default "tst-COMMON tst-HE"); DATA_DIR (default
# recipes/mustc/st/data/PAIR); VOCAB_SIZE (target pieces, 8000); SOURCE_VOCAB_SIZE (English
# pieces, default VOCAB_SIZE); CMVN_UTTS (utterances for the statistics, 20000); PREP_JOBS
# (processes cutting segments, 8); ASR_MODEL (an ASR checkpoint with the config's features and
# listener sizes, e.g. recipes/librispeech/asr/exp/model.ckpt, whose encoder initialises the model);
# DECODE_OPTS (default: --device cuda --batch-size 64 where nvidia-smi runs, else --threads 2).
# Finished stages are skipped on a rerun unless their inputs or config changed.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../lib/recipe.sh"
pair="${PAIR:-en-de}"
tgt="${pair#en-}"
if [[ "$pair" != en-* || -z "$tgt" ]]; then
  echo "$(basename "$0"): error: PAIR must look like en-<tgt> (e.g. en-de), got '$pair'" >&2
  exit 2
fi
exp_dir="${exp_dir:-$here/exp/$pair}"
config="${config:-$here/conf/train.yaml}"
data="${DATA_DIR:-$here/data/$pair}"
vocab="${VOCAB_SIZE:-8000}"
source_vocab="${SOURCE_VOCAB_SIZE:-$vocab}"
read -r -a test_sets <<< "${TEST_SETS:-tst-COMMON tst-HE}"
sets=(dev "${test_sets[@]}")
splits="train$(printf ',%s' "${sets[@]}")"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  split_words decode_opts "${DECODE_OPTS:---device cuda --batch-size 64}"
else
  split_words decode_opts "${DECODE_OPTS:---threads 2}"
fi
if (( stage <= 0 && 0 <= stop_stage )) && [[ -z "${CORPUS_DIR:-}" ]]; then
  echo "$(basename "$0"): error: set CORPUS_DIR to the MuST-C folder (holding $pair/data/)" >&2
  exit 2
fi
corpus="$data/corpus"

# No --outputs: the cut segments are costly; `speech prepare mustc` keeps the cuts of an interrupted
# or changed run that have the right length, and skips itself when its options are unchanged.
run_stage 0 "prepare data" -- \
  speech prepare mustc --corpus-dir "${CORPUS_DIR:-}" --out-dir "$corpus" --pair "$pair" --splits "$splits" \
    --quiet --jobs "${PREP_JOBS:-8}"

run_stage 1 "source tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/source_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --field text \
    --out "$data/source_tokenizer.json" --kind sentencepiece --vocab-size "$source_vocab"

run_stage 1 "target tokenizer" --inputs "$corpus/train.jsonl" --outputs "$data/target_tokenizer.json" -- \
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --field translation \
    --out "$data/target_tokenizer.json" --kind sentencepiece --vocab-size "$vocab"

run_stage 1 "CMVN stats" --inputs "$corpus/train.jsonl" --outputs "$data/cmvn.json" -- \
  speech prepare cmvn --manifest "$corpus/train.jsonl" --out "$data/cmvn.json" \
    --max-utterances "${CMVN_UTTS:-20000}"

init=()
[[ -z "${ASR_MODEL:-}" ]] || init=(--init-encoder-from "$ASR_MODEL")
run_stage 2 "train" --resumable --inputs "$config" "$corpus/train.jsonl" "$corpus/dev.jsonl" \
    "$data/source_tokenizer.json" "$data/target_tokenizer.json" "$data/cmvn.json" "${init[@]:1}" \
  --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
  speech train st --config "$config" --exp-dir "$exp_dir" "${init[@]}" --set \
    data.train="$corpus/train.jsonl" data.dev="$corpus/dev.jsonl" data.target_lang="$tgt" \
    data.target_tokenizer="$data/target_tokenizer.json" data.source_tokenizer="$data/source_tokenizer.json" \
    data.cmvn="$data/cmvn.json"

for set in "${sets[@]}"; do
  run_stage 3 "decode $set" --inputs "$exp_dir/model.ckpt" "$corpus/$set.jsonl" \
    --outputs "$exp_dir/decode_$set" "$exp_dir/decode_$set/hyp.txt" -- \
    speech translate --model "$exp_dir/model.ckpt" --manifest "$corpus/$set.jsonl" \
      --out "$exp_dir/decode_$set/hyp.txt" "${decode_opts[@]}"
done

decode_dirs=()
for set in "${sets[@]}"; do decode_dirs+=("$exp_dir/decode_$set"); done
run_stage 4 "score" --inputs "${decode_dirs[@]}" --outputs "$exp_dir/RESULTS.md" -- \
  speech score report --exp-dir "$exp_dir" --metric bleu
