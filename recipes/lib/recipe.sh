# shellcheck shell=bash disable=SC2034  # the variables it sets are read by the run.sh and the stage libraries
# Shared helper sourced first by every recipes/<corpus>/<task>/run.sh; then recipes/lib/asr.sh,
# st.sh or tts.sh adds the stages of the recipe's task. Options, stages and environment variables
# are described in recipes/README.md.
#
# It parses the common options, puts the repository's .venv on PATH when there is one, sets the
# recipe's folders (here, exp_dir, config, data, corpus, recipes) and the option lists given in
# the environment, and defines `run_stage N NAME [--inputs ...] [--outputs ...] [--resumable] --
# COMMAND...`, which runs stage N only when it lies in [--stage, --stop-stage]; see
# speech/stages.py for the markers. A stage is one command with its arguments as separate words:
# never a string of shell code built from paths (a path holding a quote or `$(...)` would break
# it or run it).
#
# Options: --stage N (default 0)  --stop-stage M (default 100)  --exp-dir DIR  --config FILE
# (also spelt --stop_stage, --exp_dir, as Kaldi and ESPnet users type them, and --opt=VALUE);
# --help prints the run.sh's header comment.
set -euo pipefail

_recipe="$(basename "$0")"
_recipe_usage() {
  # The run.sh's header: the comment lines after the shebang, up to the first line of code.
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# recipe_error MESSAGE: one line on stderr, exit code 2.
recipe_error() {
  echo "$_recipe: error: $*" >&2
  exit 2
}

stage=0
stop_stage=100
_exp_dir_option=""
config=""
while [[ $# -gt 0 ]]; do
  option="$1"
  if [[ "$option" == --*=* ]]; then
    set -- "${option%%=*}" "${option#*=}" "${@:2}"
    option="$1"
  fi
  case "$option" in
    --stage|--stop-stage|--stop_stage|--exp-dir|--exp_dir|--config)
      [[ $# -ge 2 ]] || recipe_error "$option needs a value (see --help)" ;;
  esac
  case "$option" in
    --stage) stage="$2"; shift 2 ;;
    --stop-stage|--stop_stage) stop_stage="$2"; shift 2 ;;
    --exp-dir|--exp_dir) _exp_dir_option="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    -h|--help) _recipe_usage; exit 0 ;;
    *) recipe_error "unknown option '$option' (see --help)" ;;
  esac
done
for value in "$stage" "$stop_stage"; do
  [[ "$value" =~ ^[0-9]+$ ]] || recipe_error "stage numbers must be integers, got '$value'"
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
recipes="$repo_root/recipes"
here="$(cd "$(dirname "$0")" && pwd)"  # the recipe's folder
if [[ -x "$repo_root/.venv/bin/python" ]]; then
  export PATH="$repo_root/.venv/bin:$PATH"
fi

# Extra words for the commands of stage 0 (speech prepare), of training (KEY=VALUE overrides) and
# of stage 3 (speech transcribe, translate or synthesize), split at whitespace (no globbing); each
# list comes after the recipe's own options, so that it overrides them.
read -r -a corpus_opts <<< "${CORPUS_OPTS:-}"
read -r -a train_opts <<< "${TRAIN_OPTS:-}"
read -r -a decode_extra <<< "${DECODE_OPTS:-}"

# recipe_dirs [SUBDIR]: the default folders, exp/SUBDIR and data/SUBDIR when SUBDIR is given (a
# language pair); --exp-dir and DATA_DIR override them. corpus is the folder stage 0 writes,
# manifests the one holding train.jsonl, dev.jsonl, ... (a recipe may point it below corpus).
recipe_dirs() {
  exp_dir="${_exp_dir_option:-$here/exp${1:+/$1}}"
  data="${DATA_DIR:-$here/data${1:+/$1}}"
  corpus="$data/corpus"
  manifests="$corpus"
}
recipe_dirs ""
config="${config:-$here/conf/train.yaml}"
cmvn_utts=""  # utterances the feature statistics of stage 1 read (empty: all)

# stage_selected N: whether stage N lies in [--stage, --stop-stage].
stage_selected() {
  (( 10#$1 >= 10#$stage && 10#$1 <= 10#$stop_stage ))
}

# need_corpus_dir WHAT: stop with a one-line error when stage 0 is selected and CORPUS_DIR is unset.
need_corpus_dir() {
  if stage_selected 0 && [[ -z "${CORPUS_DIR:-}" ]]; then
    recipe_error "set CORPUS_DIR to $1"
  fi
}

# decode_on_gpu BATCH: stage 3 runs on the GPU in batches of BATCH when nvidia-smi lists one, else
# at two CPU threads (DECODE_OPTS adds to these options).
decode_on_gpu() {
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    decode_opts=(--device cuda --batch-size "$1")
  else
    decode_opts=(--threads 2)
  fi
}

run_stage() {
  local number="$1" name="$2"
  shift 2
  stage_selected "$number" || return 0
  python -m speech.stages run "$number" "$name" --markers "$exp_dir/.stages" "$@"
}

# cmvn_stage N NAME MANIFEST [OPTION...]: stage N, the feature statistics of MANIFEST's audio
# (`speech prepare cmvn OPTION...`, from cmvn_utts utterances) -> $data/cmvn.json.
cmvn_stage() {
  local number="$1" name="$2" manifest="$3" utts=()
  shift 3
  [[ -z "$cmvn_utts" ]] || utts=(--max-utterances "$cmvn_utts")
  run_stage "$number" "$name" --inputs "$manifest" --outputs "$data/cmvn.json" -- \
    speech prepare cmvn "$@" --manifest "$manifest" --out "$data/cmvn.json" "${utts[@]}"
}

# train_stage N TASK INPUT... -- ARG...: stage N "train", resumable: `speech train TASK --config
# $config --exp-dir $exp_dir ARG... $TRAIN_OPTS`; its inputs are the config and INPUT..., its
# outputs the experiment's checkpoints, logs (tb, csv), config.yaml and model.ckpt. With INIT_FROM
# set (asr, st), training fine-tunes that checkpoint (`--init-from`: its weights, a fresh optimiser).
train_stage() {
  local number="$1" task="$2" inputs=() init=()
  shift 2
  while [[ "$1" != -- ]]; do inputs+=("$1"); shift; done
  shift
  [[ -z "${INIT_FROM:-}" ]] || init=(--init-from "$INIT_FROM")
  run_stage "$number" "train" --resumable --inputs "$config" "${inputs[@]}" "${init[@]:1}" \
    --outputs "$exp_dir/checkpoints" "$exp_dir/tb" "$exp_dir/csv" "$exp_dir/config.yaml" "$exp_dir/model.ckpt" -- \
    speech train "$task" --config "$config" --exp-dir "$exp_dir" "${init[@]}" "$@" "${train_opts[@]}"
}
