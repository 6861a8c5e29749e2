#!/bin/bash
# Detached (setsid) driver on the GPU machine: CPU tracks in parallel, GPU jobs one at a time in priority order.
W=/tmp/w; P=$W/pack; M=$W/m; R=$W/res
mkdir -p $M $R
export PATH=/tmp/devkit/bin:$PATH NODE_PATH=/tmp/devkit/node_modules PYTHONUNBUFFERED=1
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
shm=$(df -BG --output=avail /dev/shm 2>/dev/null | tail -1 | tr -dc 0-9)
if [ "${shm:-0}" -ge 20 ]; then mkdir -p /dev/shm/m; echo /dev/shm/m > $W/small_dir; else echo $M > $W/small_dir; fi
{ date -u; nproc; free -g; df -h / /tmp /dev/shm; nvidia-smi; nvcc --version | tail -2; node -v; cmake --version | head -1; ls /usr/local/cuda*/lib64/libcudart.so* 2>/dev/null; vulkaninfo --summary 2>&1 | head -30; } > $R/machine.txt 2>&1
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu,power.draw --format=csv -l 1 > $R/gpumon.csv 2>&1 &
source $P/steplib.sh
waitfor() { for j in "$@"; do while [ ! -e $W/done.$j ]; do sleep 2; done; done; for j in "$@"; do [ -e $W/ok.$j ] || return 1; done; }
( step untar; [ "${PEER_AFTER:-}" ] && waitfor $PEER_AFTER; step build ) &
step kitb &
[ "${BUILD_CUDA:-}" ] && ( waitfor kitb && step nlcbuild || skip nlcbuild "prerequisite failed" ) &
step kitc &
( step gen8b; step gen1b ) &
( waitfor gen8b kitb && step g8b || skip g8b "prerequisite failed" ) &
( waitfor gen1b kitb && step g1b || skip g1b "prerequisite failed" ) &
# ORDER (environment) picks the GPU jobs; the CUDA-built runtime's lease: ORDER="b8b_built lb8b64 b8b_built_128k lb8b128" PEER_AFTER=nlcbuild
# (PEER_AFTER=b8b_built keeps the peer's compile away from our decode numbers; AFTER_FILE=PATH holds every GPU job
# until that file exists, e.g. while a training run shares the machine; the compiles run at low priority)
order=${ORDER:-"b1b_cuda_fb b8b_256k lb8b_256k"}
declare -A pre=( [b1b_cuda_fb]="g1b kitc" [b8b_256k]="g8b kitb" [lb8b_256k]="g8b build" [b8b_built]="g8b nlcbuild" [b8b_built_128k]="g8b nlcbuild" [b8b_built_512k]="g8b nlcbuild"
  [lb8b64]="g8b build" [lb8b128]="g8b build" )
waitfor gen8b
[ "${AFTER_FILE:-}" ] && while [ ! -e "$AFTER_FILE" ]; do sleep 2; done
while :; do
  left=0; ran=0
  for j in $order; do
    [ -e $W/done.$j ] && continue
    [ -e $W/stop.$j ] && { skip $j "stopped by request"; continue; }
    left=1; ready=1; bad=0
    for q in ${pre[$j]}; do [ -e $W/done.$q ] || ready=0; [ -e $W/fail.$q ] && bad=1; done
    if [ $bad = 1 ]; then skip $j "prerequisite failed"; continue; fi
    if [ $ready = 1 ]; then step $j; ran=1; break; fi
  done
  [ $left = 0 ] && break
  [ $ran = 0 ] && sleep 2
done
echo "$(date -u +%T) ALL GPU JOBS DONE" >> $R/steps.log
touch $W/all.done
