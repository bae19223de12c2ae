#!/usr/bin/env bash
# The ding ASR GPU check, one prepared script for a lent GPU machine (the `device` tool: about 15
# minutes of device time a session, one command of at most 10 minutes, nothing reachable from it).
# (It was bench/gpu.sh; that name is now the GPU benchmarks.)
#
# It rebuilds the ding corpus there (the synthesizers travel in .gpu/, made by bench/gpu_bundle.sh),
# checks it is the corpus built here, trains the ding ASR GPU config (recipes/ding/asr/conf/
# train_gpu.yaml, bf16) for STEPS steps with the LR schedule sized to them, then decodes test and
# test_unseen with the local RNN LM and writes RESULTS.md, the training log and the checkpoint's
# training summary to OUT. First it measures the LJSpeech vocoder's samples/s at batch 16, fp32 vs
# bf16 (OUT/vocoder.md).
#
# Usage (repo root):  bash bench/gpu_ding.sh                 on the GPU machine
#                     GPU_SMOKE=1 bash bench/gpu_ding.sh     a CPU dry run here: a 60-sentence
#                                                            corpus, 3 steps, fp32 on CPU
#                                                            (SMOKE_CORPUS_OPTS: its `speech
#                                                            prepare ding` options)
# Environment: STEPS (default 1000), MAX_MINUTES (the safety net, default 4.5; a run it stops says
#   so in RESULTS.md), JOBS (corpus workers, default: all cores), OUT (default bench/out/gpu),
#   WORK (corpus and experiment, default /tmp/speech-gpu), GPU_SET (more KEY=VALUE overrides).
#
# Measured: bench/GPU.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
smoke=${GPU_SMOKE:-0}
out=${OUT:-$repo/bench/out/gpu}
steps=${STEPS:-1000}
max_minutes=${MAX_MINUTES:-4.5}
jobs=${JOBS:-$(nproc)}
work=${WORK:-/tmp/speech-gpu}
mkdir -p "$out" "$work"
exec > >(tee -a "$out/gpu.log") 2>&1
stamp() { echo "[$(date +%T) +$((SECONDS))s] $*"; }

if [[ "$smoke" != 1 ]]; then
  for f in .gpu/sysroot.tar.xz .gpu/expected.sha256 .gpu/tokenizer.json .gpu/cmvn.json .gpu/lm.ckpt; do
    [[ -f "$f" ]] || { echo "bench/gpu_ding.sh: error: $f is missing; run bench/gpu_bundle.sh here and carry .gpu" >&2; exit 2; }
  done
  stamp "setup: wheels, synthesizers"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl
  export PYTHONPATH=/tmp/site:$repo
  mkdir -p /tmp/bin && printf '#!/bin/sh\nexec python3 -m speech "$@"\n' >/tmp/bin/speech && chmod +x /tmp/bin/speech
  export PATH=/tmp/bin:$PATH
  sr=/tmp/sysroot-x && mkdir -p $sr && tar -xJf .gpu/sysroot.tar.xz -C $sr
  for d in usr/share/festival usr/lib/x86_64-linux-gnu/espeak-ng-data usr/share/trans; do
    [[ -e /$d ]] || { mkdir -p "/$(dirname $d)"; cp -a "$sr/$d" "/$d"; }
  done
  for b in flite espeak-ng festival text2wave; do [[ -e /usr/bin/$b ]] || cp "$sr/sysroot/bin/$b" /usr/bin/; done
  # Only the libraries the image lacks, so nothing of the image's own is shadowed.
  libs=/opt/speech-libs && mkdir -p $libs
  for f in "$sr"/sysroot/lib/*; do
    ldconfig -p | grep -q "^[[:space:]]*$(basename "$f") " || cp "$f" $libs/
  done
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch, lightning; print("torch", torch.__version__, "lightning", lightning.__version__, torch.cuda.get_device_name())'
  corpus_opts=()
  config=recipes/ding/asr/conf/train_gpu.yaml
  overrides=(trainer.max_steps="$steps" trainer.max_minutes="$max_minutes" data.num_workers=8)
  decode_opts=(--device cuda --batch-size 100)
  read -r -a extra <<<"${GPU_SET:-}"  # more KEY=VALUE overrides
  overrides+=("${extra[@]}")
else
  [[ -x "$repo/.venv/bin/speech" ]] && export PATH="$repo/.venv/bin:$PATH"  # as recipes/lib/recipe.sh
  libs=
  read -r -a corpus_opts <<<"${SMOKE_CORPUS_OPTS:---max-pairs 60 --dev 6 --test 6}"
  config=recipes/ding/asr/conf/train_gpu.yaml
  overrides=(trainer.max_steps=3 trainer.max_epochs=3 trainer.accelerator=cpu trainer.precision=32
             trainer.num_threads=1 data.num_workers=0 data.max_seconds=30
             model.listener.hidden_size=32 model.speller.hidden_size=32 model.speller.embed_dim=16
             model.speller.attention_dim=16)
  decode_opts=(--device cpu --threads 1 --beam 2)
fi

stamp "vocoder throughput at batch 16, fp32 vs bf16 (bench/vocoder.py --precision-pair)"
if [[ "$smoke" != 1 ]]; then
  python3 bench/vocoder.py --precision-pair --device cuda --out "$out/vocoder.md"
else
  python bench/vocoder.py --precision-pair --device cpu --quick --out "$out/vocoder.md"
fi

corpus=$work/corpus
stamp "ding corpus (ASR part) with $jobs workers"
LD_LIBRARY_PATH=${libs} speech prepare ding --out-dir "$corpus" --no-tts --jobs "$jobs" --quiet "${corpus_opts[@]}"
if [[ "$smoke" != 1 ]]; then
  if (cd "$corpus" && sha256sum --quiet -c "$repo/.gpu/expected.sha256"); then
    echo "corpus: identical to the local one (manifests and sample wavs)"
  else
    echo "corpus: DIFFERS from the local one; figures are not comparable with the CPU recipe's"
  fi
  tok=.gpu/tokenizer.json cmvn=.gpu/cmvn.json lm=.gpu/lm.ckpt
else
  speech prepare tokenizer --manifest "$corpus/train.jsonl" --out "$work/tokenizer.json" --kind char --quiet
  speech prepare cmvn --manifest "$corpus/train.jsonl" --out "$work/cmvn.json" --quiet
  tok=$work/tokenizer.json cmvn=$work/cmvn.json lm=
fi

exp=$work/exp
rm -rf "$exp"  # a fresh experiment: a warm machine keeps /tmp, and training would resume
stamp "train $config: ${overrides[*]}"
speech train asr --config "$config" --exp-dir "$exp" --set data.train="$corpus/train.jsonl" \
  data.dev="$corpus/dev.jsonl" data.tokenizer="$tok" data.cmvn="$cmvn" "${overrides[@]}" 2>&1 |
  tr '\r' '\n' | grep -v -E '^(Training|Validation|Sanity)' || true
[[ -f "$exp/model.ckpt" ]] || { echo "bench/gpu_ding.sh: error: training wrote no $exp/model.ckpt" >&2; exit 1; }

lm_opts=()
[[ -n "$lm" ]] && lm_opts=(--lm "$lm" --lm-weight 0.2)
for set in dev test test_unseen; do
  stamp "decode $set"
  speech transcribe --model "$exp/model.ckpt" "${lm_opts[@]}" --manifest "$corpus/$set.jsonl" \
    --out "$exp/decode_$set/hyp.txt" --quiet "${decode_opts[@]}"
done
speech score report --exp-dir "$exp" --normalize --quiet >/dev/null
cp "$exp/RESULTS.md" "$exp/config.yaml" "$out/"
[[ -d "$exp/csv" ]] && find "$exp/csv" -name metrics.csv -exec cp {} "$out/metrics.csv" \;
for set in test test_unseen; do cp "$exp/decode_$set/hyp.txt" "$out/hyp_$set.txt"; done
python3 - "$exp/model.ckpt" >"$out/training.json" <<'EOF'
import json, sys, torch
ckpt = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
print(json.dumps(ckpt.get("training", {}), indent=1))
EOF
cat "$out/RESULTS.md" "$out/training.json"
stamp "done"
