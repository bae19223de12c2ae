#!/usr/bin/env bash
# Pack what bench/gpu_ding.sh needs on a lent GPU machine that can reach nothing: .gpu/ (ignored by git).
#   sysroot.tar.xz  flite, espeak-ng and festival with the shared libraries they load (libc and
#                   the C++ runtime excepted), festival's and espeak-ng's data, the Ding dictionary
#   whl/            the Python packages the machine's image lacks (Python 3.12 wheels)
#   tokenizer.json, cmvn.json, lm.ckpt   from the local ding ASR recipe (stages 1 and 2)
#   expected.sha256 the local ding corpus's manifests and a few of its wavs, so the machine can
#                   check that it rebuilt the same corpus
# Usage: bench/gpu_bundle.sh   (after recipes/ding/asr/run.sh --stop-stage 2 here)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
data=recipes/ding/asr/data
lm=recipes/ding/asr/exp/lm/model.ckpt
for f in "$data/tokenizer.json" "$data/cmvn.json" "$lm" "$data/corpus/train.jsonl"; do
  [[ -f "$f" ]] || { echo "bench/gpu_bundle.sh: error: $f is missing; run recipes/ding/asr/run.sh --stop-stage 2" >&2; exit 1; }
done
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo /.gpu/ >>.git/info/exclude; }
rm -rf "$out" && mkdir -p "$out/whl"

# The synthesizers: binaries, the libraries ldd resolves for them, their data.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/sysroot/bin" "$root/sysroot/lib"
cp /usr/bin/flite /usr/bin/espeak-ng /usr/bin/festival /usr/bin/text2wave "$root/sysroot/bin/"
for b in flite espeak-ng festival; do ldd "/usr/bin/$b" | awk '/=>/ {print $3}'; done | sort -u |
  grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|libgomp)\.so|ld-linux' |
  while read -r f; do cp -L "$f" "$root/sysroot/lib/"; done
tar -cJhf "$out/sysroot.tar.xz" -C "$root" sysroot \
  -C / usr/share/festival usr/lib/x86_64-linux-gnu/espeak-ng-data usr/share/trans

# Python packages the image lacks (its list: /work/.library/device/KINDS.md), pinned as here.
pins=$(grep -i -E '^(soundfile|cffi|pycparser|num2words|jiwer|rapidfuzz)==' constraints.txt)
for p in $pins; do
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$out/whl" "$p"
done
.venv/bin/python -m pip wheel -q --no-deps -w "$out/whl" "$(grep -i '^docopt==' constraints.txt)"

cp "$data/tokenizer.json" "$data/cmvn.json" "$out/"
cp "$lm" "$out/lm.ckpt"
(cd "$data/corpus" && sha256sum train.jsonl dev.jsonl test.jsonl test_unseen.jsonl \
  wavs/train/ding-train-00000.wav wavs/test/ding-test-00000.wav \
  "$(sed -n 1p test_unseen.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["audio"])')") \
  >"$out/expected.sha256"
du -sh "$out"
