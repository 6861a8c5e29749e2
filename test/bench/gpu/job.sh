#!/bin/bash
# One named job (see pipeline.sh), on the GPU machine under /tmp/w.
W=/tmp/w; P=$W/pack; B=$W/b; M=$W/m; R=$W/res; LC=$W/llama.cpp; LB=$LC/build/bin
S=$(cat $W/small_dir)
RSS="python3 $P/rss.py"; CLI="node $B/out/cli.js"; BENCH="node $B/out/bench-engine.js"; NLC=$B/nlc
set -x
case $1 in
  gen1b) $RSS python3 $P/gen_ckpt.py 1b $S/hf1b $P/tok ;;
  gen8b) nice -n 10 $RSS python3 $P/gen_ckpt.py 8b $M/hf8b $P/tok ;;
  untar) mkdir -p $LC && tar xJf $P/llama.cpp.tar.xz -C $LC ;;
  build) cd $LC && cmake -B build -G Ninja -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release \
           -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF \
         && nice -n 19 cmake --build build --target llama-bench -j 14 ;;
  nlcbuild) # the product's own build of the CUDA binary (prolong runtime build), on the runtime the kit carries
    rm -rf $W/nlcb && cp -r $B/nlc $W/nlcb && L=$W/nlcb/node_modules/node-llama-cpp/llama && mkdir -p $L/llama.cpp \
    && tar xJf $P/llama.cpp.tar.xz -C $L/llama.cpp && (cd $L/llama.cpp && for d in ../patches/*.diff; do git apply $d || true; done \
      && git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm source) \
    && PATH=$B/npmbin:$PATH nice -n 19 $RSS $CLI runtime build --gpu cuda --dir $W/nlcb && $CLI runtime status --dir $W/nlcb ;;
  # 64 decoded tokens, as llama-bench's tg64
  b8b_built) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcb --contexts 32768,65536 --decode-tokens 64 --json $R/b8b_built.json ;;
  b8b_built_512k) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcb --contexts 524000 --json $R/b8b_built_512k.json ;;
  b8b_built_128k) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcb --contexts 131072 --json $R/b8b_built_128k.json ;;
  lb8b64) $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32 -n 64 -d 32768,65536 -r 1 -o md \
        && $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32768,65536 -n 0 -r 1 -o md ;;
  lb8b128) $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32 -n 64 -d 131072 -r 1 -o md ;;
  kitb) for i in $(seq 900); do [ -e $B/ready ] && exit 0; sleep 1; done; exit 1 ;;
  kitc) for i in $(seq 900); do [ -e $W/cuda/ready ] && exit 0; sleep 1; done; exit 1 ;;
  g8b) nice -n 10 $RSS $CLI convert $M/hf8b $M/g8b-q4_0.gguf --gguf q4_0 --max-context 524288 --json ;;
  g1b) $RSS $CLI convert $S/hf1b $S/g1b-q4_0.gguf --gguf q4_0 --max-context 131072 --json ;;
  b8b_256k) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $NLC --contexts 262144 --json $R/b8b_256k.json ;;
  b1b_cuda_fb) $BENCH --model $S/g1b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcc --contexts 4096 --json $R/b1b_cuda_fb.json ;;
  lb8b_256k) $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32 -n 32 -d 262144 -r 1 -o md ;;
  b8b_cuda) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcc --contexts 32768,65536,131072 --json $R/b8b_cuda.json ;;
  b8b_vk) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $NLC --contexts 32768,65536,131072 --json $R/b8b_vk.json ;;
  b8b_512k) $BENCH --model $M/g8b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcc --contexts 4096 --context-tokens 524288 --json $R/b8b_512k.json ;;
  b1b_cuda) $BENCH --model $S/g1b-q4_0.gguf --runtime llama.cpp --llama-cpp $W/nlcc --contexts 4096,32768 --json $R/b1b_cuda.json ;;
  b1b_vk) $BENCH --model $S/g1b-q4_0.gguf --runtime llama.cpp --llama-cpp $NLC --contexts 4096,32768 --json $R/b1b_vk.json ;;
  lb8b) $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32,2048 -n 64 -d 0,32768,65536,131072 -r 1 -o md \
        && $LB/llama-bench -m $M/g8b-q4_0.gguf -fa 1 -ngl 99 -p 32768,65536 -n 0 -r 1 -o md ;;
  lb1b) $LB/llama-bench -m $S/g1b-q4_0.gguf -fa 1 -ngl 99 -p 32,2048 -n 64 -d 0,32768 -r 1 -o md ;;
  *) echo "unknown job $1"; exit 2 ;;
esac
