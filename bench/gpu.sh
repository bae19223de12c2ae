#!/usr/bin/env bash
# The GPU benchmarks, one prepared command for a lent GPU machine (the `device` tool: about 15
# minutes of device time a session, one command of at most 10 minutes, nothing reachable from it).
# About 3-5 minutes (an estimate: not yet run on a GPU), at most 8: bench/gpu.py starts no section
# after MAX_MINUTES.
#
# It needs only the repository and the machine's own python3 with PyTorch: every input is
# synthetic (random features, mels and tokens with real lengths), so no corpus, checkpoint or
# wheel travels. Measured (bench/gpu.py): Tacotron2 training mel frames/s at batch 128 with
# LJSpeech-like lengths, fp32/TF32 vs bf16 autocast, against NVIDIA's published A100 figures; LAS
# and ST training steps/s, fp32 vs bf16; ASR beam-search RTF and Tacotron2 decoder time per step
# at batch 1 and 32 (eager, and the step under torch.compile: inductor, and its CUDA-graph mode; the
# first compile takes about a minute of the budget); peak GPU memory of each. The figures go to OUT
# (a Markdown file).
#
# The ding ASR training check that used to be this script is bench/gpu_ding.sh.
#
# Usage (repo root):  bash bench/gpu.sh                 on the GPU machine
#                     GPU_SMOKE=1 bash bench/gpu.sh     a CPU dry run here: tiny sizes, 2 rounds
# Environment: OUT (default bench/RESULTS-gpu.md), MAX_MINUTES (default 7), STEPS (timed rounds per
#   figure, default 3), PYTHON (default: .venv/bin/python when it exists, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
smoke=${GPU_SMOKE:-0}
out=${OUT:-$repo/bench/RESULTS-gpu.md}
max_minutes=${MAX_MINUTES:-7}
steps=${STEPS:-3}
python=${PYTHON:-}
if [[ -z "$python" ]]; then
  if [[ -x "$repo/.venv/bin/python" ]]; then python=$repo/.venv/bin/python; else python=python3; fi
fi
export PYTHONPATH=$repo${PYTHONPATH:+:$PYTHONPATH}
stamp() { echo "[$(date +%T) +$((SECONDS))s] $*"; }

if [[ "$smoke" == 1 ]]; then
  stamp "dry run on CPU ($python)"
  OMP_NUM_THREADS=1 "$python" bench/gpu.py --smoke --device cpu --steps "$steps" \
    --max-minutes "$max_minutes" --out "$out"
else
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  stamp "bench/gpu.py on cuda ($python)"
  "$python" bench/gpu.py --device cuda --steps "$steps" --max-minutes "$max_minutes" --out "$out"
fi
stamp "done: $out"
