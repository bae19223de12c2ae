# Shared helper sourced by every recipes/<corpus>/<task>/run.sh.
#
# Parses the common options, puts the repository's .venv on PATH when there is one, and
# defines `run_stage N NAME [--inputs ...] [--outputs ...] [--resumable] -- COMMAND...`, which
# runs stage N only when it lies in [--stage, --stop-stage]; see speech/stages.py for markers.
#
# Options: --stage N (default 0)  --stop-stage M (default 100)  --exp-dir DIR  --config FILE
set -euo pipefail

stage=0
stop_stage=100
exp_dir=""
config=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stage) stage="$2"; shift 2 ;;
    --stop-stage) stop_stage="$2"; shift 2 ;;
    --exp-dir) exp_dir="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    -h|--help)
      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) echo "$(basename "$0"): error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for value in "$stage" "$stop_stage"; do
  [[ "$value" =~ ^[0-9]+$ ]] || { echo "$(basename "$0"): error: stage numbers must be integers" >&2; exit 2; }
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -x "$repo_root/.venv/bin/python" ]]; then
  export PATH="$repo_root/.venv/bin:$PATH"
fi
PYTHON="${PYTHON:-python}"

run_stage() {
  local number="$1" name="$2"
  shift 2
  if (( number < stage || number > stop_stage )); then
    return 0
  fi
  "$PYTHON" -m speech.stages run "$number" "$name" --markers "$exp_dir/.stages" "$@"
}
