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
# Environment: DATA_DIR; CORPUS_OPTS (`speech prepare ding` options, e.g. --voices, --unseen-voices);
# VOCAB_SIZE (default 500); LM_CONFIG (default conf/lm.yaml); TRAIN_OPTS (the recognizer's);
# DECODE_OPTS (after "--threads 1 --lm-weight 0.2", the weight tuned on dev). The options, stages
# and variables of every recipe: recipes/README.md.

# shellcheck source=../../lib/recipe.sh
source "$(dirname "$0")/../../lib/recipe.sh"
# shellcheck source=../../lib/asr.sh
source "$recipes/lib/asr.sh"
test_sets=(dev test test_unseen)
peer_sets=(test test_unseen)
decode_opts=(--threads 1 --lm-weight 0.2)
score_opts=(--normalize)

run_stage 0 "prepare data" --outputs "$corpus" -- \
  speech prepare ding --out-dir "$corpus" --no-tts "${corpus_opts[@]}"
asr_tokenizer_stage 1
asr_cmvn_stage 1
asr_lm_stage 2
asr_train_stage 3
asr_decode_stage 4
asr_peer_stage 5
asr_score_stage 6
