#!/bin/bash
# The whole training run on the GPU machine, started detached by run.sh: data (our packer and probe tasks, on the
# CPUs), stage 1 (short context), stage 2 (long context, raised RoPE base; its data made while stage 1 trains),
# export checks, int4 conversion, and probes of both stages' models (stage 1's on the CPUs while stage 2 trains).
# Everything lands in $R; run.sh brings it back. Stage lengths in minutes come from the environment.
# Continuation mode: INIT_MODEL=<converted model dir, relative to the repo root> (e.g. media/demo-model) makes only
# stage 2 data, turns that model back into a float32 checkpoint (training/data/unconvert.ts -> $J/ck-init), skips
# s0/s1 and trains the S2_SET variants from it; SKIP_PROBES=1 then ends after converting s2, without probes.
# DATA_EXTRA goes to every data shard (e.g. "--weights ask=30,repo_qa_1=4": more repository questions); BEST_KIND
# keeps the variant best at one kind of held-out row (e.g. ask) instead of the best on average.
set -u
J=/tmp/job; R=$J/res; D=$J/data; cd $J/repo
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
S1_MIN=${S1_MIN:-6.5}; S2_MIN=${S2_MIN:-7}; SHARDS=${SHARDS:-14}; EX1=${EX1:-8000}; EX2=${EX2:-3500}; TPS=${TPS:-65536}
HELD_OUT=${HELD_OUT:-400}; SAMPLES=${SAMPLES:-4}
log() { echo "$(date -u +%T) $*" | tee -a $R/steps.log; }
# repositories: the standard library's packages and site-packages' packages, each under MAX_REPO_MB (packing and
# tokenizing torch-sized packages would take the whole run), as links under two roots
roots=${ROOTS:-}
if [ -z "$roots" ]; then
  for src in $(python3 -c "import site, sysconfig; print(site.getsitepackages()[0], sysconfig.get_paths()['stdlib'])"); do
    dst=$J/roots/$(echo $src | md5sum | cut -c1-8); mkdir -p $dst; roots="$roots${roots:+,}$dst"
    for d in $src/*/; do [ "$(du -sm "$d" | cut -f1)" -le ${MAX_REPO_MB:-12} ] && ln -s "$d" $dst/; done
  done
fi
PIN=; command -v taskset >/dev/null && [ $(nproc) -ge 8 ] && PIN="taskset -c 4-$(($(nproc) - 1))"
log "roots $roots; $(nproc) cores; $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"

data() { # stage lengths examples
  local pids=()
  for i in $(seq 0 $((SHARDS - 1))); do
    $PIN node $J/out/training-data.js --roots "$roots" --out $D --stage $1 --lengths $2 --examples $3 --shard $i --shards $SHARDS --seed train ${DATA_EXTRA:-} > $R/data-$1-$i.log 2>&1 & pids+=($!)
  done
  for p in "${pids[@]}"; do wait $p || log "data $1 shard failed: $(tail -3 $R/data-$1-*.log | tail -3)"; done
  log "data $1 done: $(du -sh $D | cut -f1)"
}
convert() { # stage
  node $J/out/training-check.js $J/ck-$1 > $R/export-check-$1.log 2>&1 && log "$(cat $R/export-check-$1.log)" || log "EXPORT CHECK FAILED $1: $(cat $R/export-check-$1.log)"
  # a model trained on packs with the definitions index says so in its sidecar: the product then packs with it; and a
  # demo model asks the engine to keep its answers' paths to the packed files' (--guard-paths: it misspells them)
  local index=; indexed_data && index=--definitions-index
  node $J/out/cli.js convert $J/ck-$1 $J/model-$1 --dtype int4 --int4-embedding --block-size 64 --max-context 16384 --guard-paths $index > $R/convert-$1.log 2>&1
  log "convert $1: $(tail -1 $R/convert-$1.log)"
  mkdir -p $R/model-$1 && find $J/model-$1 -maxdepth 1 -type f ! -name model.onnx.data -exec cp {} $R/model-$1/ \;
}
indexed_data() { # true when DATA_EXTRA packs a share of the rows with the definitions index (--index-share P, P > 0)
  [[ " ${DATA_EXTRA:-} " =~ \ --index-share[=\ ]+([0-9.]+) ]] && awk -v p="${BASH_REMATCH[1]}" 'BEGIN { exit !(p > 0) }'
}
probe() { # stage name tasks lengths samples [extra]
  # the probes keep off the first cores, where the trainers build their batches
  # SIGINT at the timeout: the probe CLI then stops and still writes what it finished
  $PIN timeout -s INT -k 30 ${PROBE_TIMEOUT:-400} node $J/out/cli.js probe --model $J/model-$1 --ep cpu --tasks $3 --lengths $4 --samples $5 --seed eval --jsonl ${6:-} > $R/probe-$1-$2.jsonl 2> $R/probe-$1-$2.err
}

probe_s2() { # stage 2's model: NIAH at 1K-16K, the other tasks at 4K and 8K (repository QA on this repository)
  PROBE_TIMEOUT=${S2_PROBE_TIMEOUT:-300}
  for L in 1k 2k 4k 8k 16k; do probe s2 niah-$L niah $L $SAMPLES & done
  for L in 4k 8k; do probe s2 other-$L vt,cwe,fwe,json_kv,repo_qa_1,repo_qa_2 $L $SAMPLES "--repo $J/repo" & done
  wait
}
INIT_MODEL=${INIT_MODEL:-}; SKIP_PROBES=${SKIP_PROBES:-0}
if [ -z "$INIT_MODEL" ]; then
  log "data s1 from $(ls $J/roots/* | wc -l) repositories"; data s1 512:2,1024:2,2048:1 $EX1
fi
(log "data s2"; data s2 1024:1,2048:1,4096:2,8192:3 $EX2) &
s2data=$!
# Each stage trains its variants side by side (the GPU has room for several of this size; steps are bound by the
# host, not the GPU) and keeps the one with the best held-out answer accuracy.
train() { # stage variant init theta positions minutes lr warmup lm-share copy-share [extra args, '+' for spaces]
  python3 training/train.py --data $D --stage $1 ${3:+--init $3} --out $J/ck-$1$2 --theta $4 --max-positions $5 --minutes $6 --lr $7 --warmup $8 --tokens-per-step $TPS --held-out $HELD_OUT --lm-share $9 --copy-share ${10} ${11//+/ } ${TRAIN_EXTRA:-} > $R/train-$1$2.log 2>&1 || log "TRAIN $1$2 FAILED: $(tail -5 $R/train-$1$2.log)"
  log "$1$2: $(grep -E 'steps,|held-out' $R/train-$1$2.log | tr '\n' ' ' | cut -c1-600)"
}
best() { # stage variants...
  local stage=$1; shift
  python3 - $J $stage "$@" <<'PY'
import json, os, sys
j, stage, variants = sys.argv[1], sys.argv[2], sys.argv[3:]
kind = os.environ.get("BEST_KIND", "")  # e.g. "ask": the variant best at that kind of row, not on average
def score(v):
    try:
        acc = json.load(open(f"{j}/ck-{stage}{v}/training_log.json"))["held_out_accuracy"]
        acc = {k: a for k, a in acc.items() if k.startswith(kind + "@")} if kind else acc
        return sum(acc.values()) / max(1, len(acc))
    except Exception:
        return -1
print(max(variants, key=score))
PY
}
# variants as name:lr:warmup:lm-share:copy-share[:extra args joined by '+'], trained side by side; TRAIN_EXTRA goes to every trainer
# (per-kind task weighting, for example: "c:1e-3:50:0.15:0.15:--task-weights+ask=4,repo_qa_1=2")
S1_SET=${S1_SET:-"a:2e-3:150:0.2:0.3 b:3e-3:150:0.1:0.5 c:2e-3:150:0.25:0"}
S2_SET=${S2_SET:-"a:1e-3:50:0.15:0.15 b:2e-3:50:0.1:0.3"}
variants() { # stage init theta positions minutes set
  local pids=() names=()
  for v in $6; do IFS=: read -r name lr warm lm copy extra <<< "$v"
    train $1 $name "$2" $3 $4 $5 $lr $warm $lm $copy "${extra:-}" & pids+=($!); names+=($name)
  done
  wait "${pids[@]}"
  local b; b=$(best $1 "${names[@]}"); log "$1 best: $b"; ln -sfn $J/ck-$1$b $J/ck-$1
}
# Induction warm-up (runs D and E in training/README.md): pure copying in 256-token rows forms the induction heads
# that every retrieval task needs within ~500 steps; mixed with LM and task rows from the start, it never formed.
if [ -n "$INIT_MODEL" ]; then
  log "continuation from $INIT_MODEL: unconvert to $J/ck-init; s0 and s1 skipped"
  if ! node $J/out/training-unconvert.js $INIT_MODEL $J/ck-init > $R/unconvert.log 2>&1; then
    log "UNCONVERT FAILED: $(tail -3 $R/unconvert.log)"; touch $J/all.done; exit 1
  fi
  log "$(tail -1 $R/unconvert.log)"
  wait $s2data
  log "train s2 variants from $INIT_MODEL ($S2_MIN min): $S2_SET"
  variants s2 $J/ck-init 500000 16384 $S2_MIN "$S2_SET"
  # every variant is converted (run.sh brings each back), so the choice can rest on the product's probes
  for ck in $J/ck-s2?*; do convert ${ck##*/ck-}; done
  for ck in $J/ck-s2?*; do cp $ck/training_log.json $R/training_log-${ck##*/ck-}.json 2>/dev/null; done
  cat $D/*.json > $R/data-summaries.json 2>/dev/null
  if [ -n "${CONT_PROBES:-}" ]; then # each task of CONT_PROBES (comma-separated) at 4K and 8K in a process of its
    # own, and repository questions (evalAsk, ASK_QUESTIONS each) on generated Python and TypeScript repositories and on
    # this one: with the definitions index when the data had it (--index-share), as the product then packs; and on
    # generated Python without it, with the answer's paths unguarded, and as path needles (copying a path without the
    # lookup; runs J-M: 0-1 of 20)
    PROBE_TIMEOUT=${S2_PROBE_TIMEOUT:-300}
    index=; indexed_data && index=--index
    for ck in $J/ck-s2?*; do v=${ck##*/ck-}
      for t in ${CONT_PROBES//,/ }; do for L in 4k 8k; do probe $v $t-$L $t $L ${SAMPLES} & done; done
      for a in "--generate py" "--generate ts" "--repo $J/repo"; do
        $PIN timeout $PROBE_TIMEOUT node $J/out/training-eval-ask.js $a $index --questions ${ASK_QUESTIONS:-20} --model $J/model-$v --verbose > $R/ask-$v-$(echo $a | awk '{print $2}' | sed 's#.*/##')${index:+-index}.log 2>&1 &
      done
      [ -n "$index" ] && $PIN timeout $PROBE_TIMEOUT node $J/out/training-eval-ask.js --generate py --questions ${ASK_QUESTIONS:-20} --model $J/model-$v --verbose > $R/ask-$v-py.log 2>&1 &
      # the same questions with the answer's paths left free (evalAsk keeps them to the packed files', as the product does)
      $PIN timeout $PROBE_TIMEOUT node $J/out/training-eval-ask.js --generate py $index --unguarded --questions ${ASK_QUESTIONS:-20} --model $J/model-$v --verbose > $R/ask-$v-py${index:+-index}-unguarded.log 2>&1 &
      $PIN timeout $PROBE_TIMEOUT node $J/out/training-eval-ask.js --generate py --needle --questions ${ASK_QUESTIONS:-20} --model $J/model-$v --verbose > $R/ask-$v-py-needle.log 2>&1 &
    done
    wait; log "probes of the variants done"
  fi
  [ "$SKIP_PROBES" != 1 ] && probe_s2
  log "ALL DONE"
  touch $J/all.done
  exit 0
fi
S0_MIN=${S0_MIN:-1.2}; S1_INIT=
if [ "$S0_MIN" != 0 ]; then
  log "train s0 (induction warm-up, $S0_MIN min)"
  python3 training/train.py --data $D --stage s1 --out $J/ck-s0 --theta 10000 --max-positions 4096 --minutes $S0_MIN --lr 3e-3 --warmup 100 --tokens-per-step 16384 --held-out $HELD_OUT --lm-share 0 --copy-share 1 --copy-length 256 --log-every 25 > $R/train-s0.log 2>&1 && S1_INIT=$J/ck-s0 || log "TRAIN s0 FAILED: $(tail -5 $R/train-s0.log)"
  log "s0: $(grep -E 'steps,' $R/train-s0.log) copy loss $(grep '^step' $R/train-s0.log | tail -1 | awk '{print $11}')"
fi
log "train s1 variants ($S1_MIN min): $S1_SET"
variants s1 "$S1_INIT" 10000 4096 $S1_MIN "$S1_SET"
convert s1
( for L in 1k 2k 4k 8k 16k; do probe s1 niah-$L niah $L $SAMPLES & done; wait; log "probes s1 done" ) &
s1probes=$!
wait $s2data
log "train s2 variants ($S2_MIN min): $S2_SET"
variants s2 $J/ck-s1 500000 16384 $S2_MIN "$S2_SET"
convert s2
for ck in $J/ck-s0 $J/ck-s1?* $J/ck-s2?*; do cp $ck/training_log.json $R/training_log-${ck##*/ck-}.json 2>/dev/null; done
cat $D/*.json > $R/data-summaries.json 2>/dev/null
wait $s1probes
probe_s2
log "ALL DONE"
touch $J/all.done
