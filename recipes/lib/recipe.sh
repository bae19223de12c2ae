# Shared helper sourced by every recipes/<corpus>/<task>/run.sh.
#
# Parses the common options, puts the repository's .venv on PATH when there is one, and
# defines `run_stage N NAME [--inputs ...] [--outputs ...] [--resumable] -- COMMAND...`, which
# runs stage N only when it lies in [--stage, --stop-stage]; see speech/stages.py for markers.
# A stage is one command with its arguments as separate words: never a string of shell code
# built from paths (a path holding a quote or `$(...)` would break it or run it).
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

stage=0
stop_stage=100
exp_dir=""
config=""
while [[ $# -gt 0 ]]; do
  option="$1"
  if [[ "$option" == --*=* ]]; then
    set -- "${option%%=*}" "${option#*=}" "${@:2}"
    option="$1"
  fi
  case "$option" in
    --stage|--stop-stage|--stop_stage|--exp-dir|--exp_dir|--config)
      if [[ $# -lt 2 ]]; then
        echo "$_recipe: error: $option needs a value (see --help)" >&2
        exit 2
      fi ;;
  esac
  case "$option" in
    --stage) stage="$2"; shift 2 ;;
    --stop-stage|--stop_stage) stop_stage="$2"; shift 2 ;;
    --exp-dir|--exp_dir) exp_dir="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    -h|--help) _recipe_usage; exit 0 ;;
    *) echo "$_recipe: error: unknown option '$option' (see --help)" >&2; exit 2 ;;
  esac
done
for value in "$stage" "$stop_stage"; do
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "$_recipe: error: stage numbers must be integers, got '$value'" >&2; exit 2; }
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$repo_root/.venv/bin/python" ]]; then
  export PATH="$repo_root/.venv/bin:$PATH"
fi
PYTHON="${PYTHON:-python}"

# split_words NAME STRING: the array NAME holds STRING's whitespace-separated words (no globbing),
# for option lists given in the environment such as CORPUS_OPTS or DECODE_OPTS.
split_words() {
  read -r -a "$1" <<< "$2"
}

run_stage() {
  local number="$1" name="$2"
  shift 2
  if (( 10#$number < 10#$stage || 10#$number > 10#$stop_stage )); then
    return 0
  fi
  "$PYTHON" -m speech.stages run "$number" "$name" --markers "$exp_dir/.stages" "$@"
}
