"""Trains one stage of the demo model on the rows written by training/data/makeData.ts.

    python3 training/train.py --data DIR --stage s1 --out CKPT_DIR [--init CKPT_DIR] --theta 10000 \
        --max-positions 4096 --minutes 5 --lr 1e-3 --tokens-per-step 65536 --lm-share 0.3 [--task-weights ask=4,repo_qa_1=2]

--init takes a checkpoint this script wrote (trainer_state.pt) or, without one, any Hugging Face checkpoint with
model.py's parameter names in model.safetensors (such as training/data/unconvert.ts makes from a converted model).

Each step is either an LM step (rows of packed repositories, loss on every token) or a task step (probe instances
and repository questions of one row length, loss on the answer and its end-of-turn token only), so the two losses
are averaged over their own tokens. The schedule (warm-up, then cosine) runs on wall time, so a stage ends when its
minutes are up whatever the machine's speed. Prints a line per `--log-every` steps and answer accuracy on held-out
rows at the end; writes a Hugging Face checkpoint (config.json, generation_config.json, model.safetensors) to --out
and a JSON log beside it.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as model_module  # noqa: E402
from model import Config, LlamaModel, parameter_count, save_hf_checkpoint  # noqa: E402

KINDS = ["lm", "ask", "niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
         "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "repo_qa_1", "repo_qa_2",
         "json_kv", "needle_heatmap", "code_needle", "ask_short", "needle_path"]
PAD_ID = 128009  # <|eot_id|>: never a loss target at a padded position, so any id would do


class Rows:
    """Every shard of a stage: token ids in one array, rows as (offset, length, loss start, kind, bucket), and the
    position ranges of a row that are not learned though after its loss start (a conversation's user turns between
    its answers; makeData's --follow-ups)."""

    def __init__(self, data_dir: str, stage: str):
        tokens, index, base, rows = [], [], 0, 0
        self.masked: dict = {}
        for path in sorted(glob.glob(os.path.join(data_dir, f"{stage}-*.tokens"))):
            t = np.fromfile(path, dtype=np.uint32)
            i = np.fromfile(path[: -len(".tokens")] + ".index", dtype=np.int64).reshape(-1, 5).copy()
            masks = path[: -len(".tokens")] + ".masks"
            if os.path.exists(masks):  # data made before masks existed has none
                for row, start, end in np.fromfile(masks, dtype=np.int64).reshape(-1, 3):
                    self.masked.setdefault(rows + int(row), []).append((int(start), int(end)))
            i[:, 0] += base
            base += len(t)
            rows += len(i)
            tokens.append(t)
            index.append(i)
        if not tokens:
            raise SystemExit(f"no {stage}-*.tokens in {data_dir}: run training/data/makeData.ts first")
        self.tokens = np.concatenate(tokens)
        self.index = np.concatenate(index)

    def groups(self) -> dict:
        """Row numbers by (kind, bucket length); kind 0 is LM rows."""
        out: dict = {}
        for r, (_, _, _, kind, bucket) in enumerate(self.index):
            out.setdefault((int(kind), int(bucket)), []).append(r)
        return {k: np.array(v) for k, v in out.items()}

    def batch(self, rows, length: int, device):
        ids = np.full((len(rows), length), PAD_ID, dtype=np.int64)
        labels = np.full((len(rows), length), -100, dtype=np.int64)
        for b, r in enumerate(rows):
            offset, n, loss_start, _, _ = self.index[r]
            row = self.tokens[offset: offset + n].astype(np.int64)
            ids[b, :n] = row
            # position t predicts token t+1; the loss covers targets from loss_start on (at least the second token)
            first = max(int(loss_start), 1)
            labels[b, first - 1: n - 1] = row[first:n]
            for start, end in self.masked.get(int(r), ()):
                labels[b, start - 1: end - 1] = -100
        return torch.from_numpy(ids).to(device), torch.from_numpy(labels).to(device)

    def copy_batch(self, lm_rows, count: int, length: int, rng, device, random_ids=None):
        """Rows that repeat a span of code later in the row ([bos] A filler A), with the loss on the repeat from its
        third token: dense practice at finding an earlier occurrence and continuing it, the induction that every
        retrieval task needs, which answer-only task rows teach only a few tokens at a time."""
        ids = np.full((count, length), PAD_ID, dtype=np.int64)
        labels = np.full((count, length), -100, dtype=np.int64)
        for b in range(count):
            span = int(rng.integers(max(8, length // 16), length // 2 - 1))
            a_row, f_row = rng.choice(lm_rows, size=2)
            a_off, a_len = int(self.index[a_row][0]), int(self.index[a_row][1])
            f_off, f_len = int(self.index[f_row][0]), int(self.index[f_row][1])
            span = min(span, a_len - 2)
            a_start = int(rng.integers(1, a_len - span))
            a = self.tokens[a_off + a_start: a_off + a_start + span].astype(np.int64)
            if random_ids is not None:  # no code statistics to lean on: only copying lowers this loss
                a = rng.choice(random_ids, size=len(a))
            fill = min(length - 1 - 2 * span, f_len - 1)
            f = self.tokens[f_off + 1: f_off + 1 + fill].astype(np.int64)
            row = np.concatenate([[self.tokens[a_off]], a, f, a])
            n = len(row)
            ids[b, :n] = row
            first = n - span + 2
            labels[b, first - 1: n - 1] = row[first:n]
        return torch.from_numpy(ids).to(device), torch.from_numpy(labels).to(device)


def read_safetensors(path: str) -> dict:
    """A .safetensors file as {name: float32 tensor}: the safetensors package where installed, else by hand (8-byte
    little-endian header size, a JSON header of dtype/shape/data_offsets, then the raw little-endian bytes)."""
    try:
        from safetensors.torch import load_file
        return {k: v.float() for k, v in load_file(path).items()}
    except ImportError:
        pass
    dtypes = {"F32": np.float32, "F16": np.float16, "BF16": None}
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SystemExit(f"{path}: too short for a safetensors file")
    (size,) = struct.unpack("<Q", blob[:8])
    if 8 + size > len(blob):
        raise SystemExit(f"{path}: header of {size} bytes runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8: 8 + size])
    base, out = 8 + size, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in dtypes:
            raise SystemExit(f"{path}: {name} has dtype {info['dtype']}; only F32, F16 and BF16 are read")
        start, end = info["data_offsets"]
        raw = blob[base + start: base + end]
        if info["dtype"] == "BF16":
            values = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            values = np.frombuffer(raw, dtype=dtypes[info["dtype"]]).astype(np.float32)
        if values.size != int(np.prod(info["shape"], dtype=np.int64)):
            raise SystemExit(f"{path}: {name} has {values.size} values for shape {info['shape']}")
        out[name] = torch.from_numpy(values.reshape(info["shape"]).copy())
    return out


def parse_task_weights(text: str | None) -> dict:
    """'ask=4,repo_qa_1=2' -> {kind index: weight}; kinds as in KINDS (lm is not a task kind)."""
    weights: dict = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in KINDS or name == "lm":
            raise SystemExit(f"--task-weights: {item!r} is not kind=weight with a task kind from {', '.join(KINDS[1:])}")
        try:
            weight = float(value)
        except ValueError:
            raise SystemExit(f"--task-weights: {item!r}: {value!r} is not a number")
        if weight < 0 or not math.isfinite(weight):
            raise SystemExit(f"--task-weights: {item!r}: the weight must be finite and not negative")
        weights[KINDS.index(name)] = weight
    return weights


def loss_of(model: LlamaModel, ids, labels, chunk: int = 8192):
    """Mean cross-entropy over labelled positions; logits only there, in chunks, recomputed in backward."""
    hidden = model.hidden_states(ids)
    mask = labels != -100
    h = hidden[mask]
    y = labels[mask]
    weight = model.embedding_weight()  # fake-quantized with --qat-embedding

    def chunk_loss(h_part, y_part, w):
        logits = (h_part @ w.to(h_part.dtype).t()).float()
        return F.cross_entropy(logits, y_part, reduction="sum")

    total = h.new_zeros((), dtype=torch.float32)
    for start in range(0, h.shape[0], chunk):
        part = (h[start:start + chunk], y[start:start + chunk], weight)
        total = total + (checkpoint(chunk_loss, *part, use_reentrant=False) if h.requires_grad else chunk_loss(*part))
    return total / max(1, h.shape[0]), h.shape[0]


@torch.no_grad()
def answer_accuracy(model: LlamaModel, rows: Rows, row_numbers, device, autocast) -> dict:
    """Teacher-forced: share of held-out answers whose every token is the argmax, per kind and length (a row of
    follow-ups holds several answers, each a run of learned positions; other rows one)."""
    model.eval()
    by_key: dict = {}
    for r in row_numbers:
        _, _, _, kind, bucket = rows.index[r]
        ids, labels = rows.batch([r], int(bucket), device)
        with autocast():
            hidden = model.hidden_states(ids)
        mask = labels[0] != -100
        right = (model.logits(hidden[0][mask]).argmax(-1) == labels[0][mask]).cpu().numpy()
        positions = mask.nonzero().flatten().cpu().numpy()
        answers = np.split(right, np.flatnonzero(np.diff(positions) > 1) + 1)  # runs of consecutive positions
        key = f"{KINDS[int(kind)]}@{int(bucket)}"
        hit, total = by_key.get(key, (0, 0))
        by_key[key] = (hit + sum(int(a.all()) for a in answers), total + len(answers))
    model.train()
    return {k: round(100 * h / t, 1) for k, (h, t) in sorted(by_key.items())}


@torch.no_grad()
def write_export_check(model: LlamaModel, rows: Rows, row_numbers, out_dir: str) -> None:
    """Float32 CPU logits of the last 3 positions of a short prompt, for training/data/checkExport.ts to compare with
    the converted model (a mismatch in rotary, norms or weight layout shows up here, not as a model that reads badly)."""
    offset, n, _, _, _ = rows.index[row_numbers[0]]
    ids = rows.tokens[offset: offset + min(int(n), 48)].astype(np.int64).tolist()
    cpu = LlamaModel(model.config)
    cpu.load_state_dict({k: v.detach().float().cpu() for k, v in model.state_dict().items()})
    cpu.eval()
    logits = cpu.logits(cpu.hidden_states(torch.tensor([ids])))[0, -3:]
    with open(os.path.join(out_dir, "export_check.json"), "w") as f:
        json.dump({"ids": ids, "lastLogits": [row.tolist() for row in logits]}, f)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--stage", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--init")
    p.add_argument("--theta", type=float, required=True)
    p.add_argument("--max-positions", type=int, required=True)
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--tokens-per-step", type=int, default=65536)
    p.add_argument("--lm-share", type=float, default=0.3)
    p.add_argument("--copy-share", type=float, default=0.0)
    # LM rows put a 128K-vocabulary softmax on every position, which made their steps the slow ones (about 3 steps/s
    # for 65K-token steps); a random share of positions keeps the signal and buys many more optimizer steps
    p.add_argument("--lm-positions", type=float, default=1.0)
    # float32 everywhere instead of bfloat16 autocast, to tell a precision problem from an optimisation one
    p.add_argument("--fp32", action="store_true")
    p.add_argument("--manual-attention", action="store_true")
    p.add_argument("--copy-random", type=int, default=0, help="copy spans of random ids drawn from this many ids")
    p.add_argument("--copy-length", type=int, default=0)
    p.add_argument("--task-weights", help="kind=weight,...: multiplies the token-proportional chance of drawing that kind's task rows")
    p.add_argument("--qat-embedding", type=int, default=0, choices=[0, 32, 64, 128],
                   help="train the embedding (and tied lm_head) through int4 at this block size, as `prolong convert "
                        "--int4-embedding --block-size N` ships it (0: float); the held-out accuracy then is the int4 model's")
    p.add_argument("--held-out", type=int, default=400)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=7)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--mlp", type=int, default=768)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    model_module.USE_SDPA = not args.manual_attention
    rng = np.random.default_rng(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda" and not args.fp32:
        torch.backends.cuda.matmul.allow_tf32 = True
        autocast = lambda: torch.autocast("cuda", dtype=torch.bfloat16)  # noqa: E731
    else:
        import contextlib
        autocast = contextlib.nullcontext

    if args.init:
        with open(os.path.join(args.init, "config.json")) as f:
            hf = json.load(f)
        config = Config(hidden_size=hf["hidden_size"], intermediate_size=hf["intermediate_size"],
                        num_hidden_layers=hf["num_hidden_layers"], num_attention_heads=hf["num_attention_heads"],
                        num_key_value_heads=hf["num_key_value_heads"], rope_theta=args.theta,
                        max_position_embeddings=args.max_positions)
        model = LlamaModel(config)
        state_path = os.path.join(args.init, "trainer_state.pt")
        if os.path.exists(state_path):
            state = torch.load(state_path, map_location="cpu")
        elif os.path.exists(os.path.join(args.init, "model.safetensors")):
            state = read_safetensors(os.path.join(args.init, "model.safetensors"))
            print(f"--init {args.init}: no trainer_state.pt, loading model.safetensors", flush=True)
        else:
            raise SystemExit(f"--init {args.init}: neither trainer_state.pt nor model.safetensors there")
        model.load_state_dict(state, strict=True)
    else:
        config = Config(hidden_size=args.hidden, intermediate_size=args.mlp, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, rope_theta=args.theta,
                        max_position_embeddings=args.max_positions)
        model = LlamaModel(config)
    model.to(device)
    model.train()
    if args.qat_embedding:
        model.embedding_int4_block = args.qat_embedding

    task_weights = parse_task_weights(args.task_weights)
    rows = Rows(args.data, args.stage)
    # groups by (kind, bucket); LM rows (kind 0) stay one group per bucket as before
    groups = rows.groups()
    # held-out task rows for the accuracy report, never trained on: drawn per bucket from all its task rows, exactly
    # as when groups were keyed by (is_lm, bucket) (same pools, order and random draws, so the same rows)
    held_out = []
    buckets = list(dict.fromkeys(b for k, b in groups if k != 0))  # in order of first appearance
    per_bucket = args.held_out // max(1, len(buckets))
    for bucket in buckets:
        keys = [k for k in groups if k[0] != 0 and k[1] == bucket]
        pool = np.sort(np.concatenate([groups[k] for k in keys]))
        rng.shuffle(pool)
        take = pool[:min(len(pool) // 10, per_bucket)]
        held_out.extend(take.tolist())
        taken = set(take.tolist())
        for k in keys:
            groups[k] = np.array([r for r in groups[k].tolist() if r not in taken], dtype=np.int64)
    task_groups = {k: v for k, v in groups.items() if k[0] != 0 and len(v) > 0}
    lm_groups = {k: v for k, v in groups.items() if k[0] == 0 and len(v) > 0}
    task_tokens = {k: sum(int(rows.index[r][1]) for r in v) * task_weights.get(k[0], 1.0) for k, v in task_groups.items()}
    task_total = sum(task_tokens.values())
    if task_groups and task_total <= 0:
        raise SystemExit("--task-weights leaves no task rows to draw: give some kind a positive weight")
    missing = sorted(KINDS[k] for k in task_weights if not any(g[0] == k for g in task_groups))
    if missing:
        print(f"--task-weights: no {', '.join(missing)} rows in stage {args.stage}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), eps=1e-8, **({"fused": True} if device.type == "cuda" else {}))
    budget_s = args.minutes * 60
    log = {"stage": args.stage, "config": config.hf_config(), "parameters": parameter_count(model), "args": vars(args),
           "rows": {f"{KINDS[k[0]]}@{k[1]}": len(v) for k, v in groups.items()},
           "task_weights": {KINDS[k]: w for k, w in task_weights.items()}, "steps": []}
    print(f"{args.stage}: {parameter_count(model):,} parameters, {len(rows.index):,} rows, {len(rows.tokens):,} tokens, "
          f"{len(held_out)} held out, device {device}", flush=True)

    started = time.time()
    step, seen_tokens, loss_tokens = 0, 0, 0
    window = {"lm": [], "task": [], "copy": []}
    lm_all = np.concatenate(list(lm_groups.values())) if lm_groups else np.array([], dtype=np.int64)
    copy_ids = np.random.default_rng(7).choice(128000, size=args.copy_random, replace=False) if args.copy_random else None
    task_lengths = sorted({k[1] for k in task_groups}) or [max(k[1] for k in lm_groups)]
    while step < args.max_steps:
        elapsed = time.time() - started
        if elapsed >= budget_s:
            break
        warm = min(1.0, (step + 1) / args.warmup)
        lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * elapsed / budget_s)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        draw = rng.random()
        kind = "task"
        if lm_groups and (not task_groups or draw < args.lm_share):
            kind = "lm"
        elif lm_groups and draw < args.lm_share + args.copy_share:
            kind = "copy"
        if kind == "lm":
            key = list(lm_groups)[0]
        elif kind == "task":
            keys = list(task_groups)
            key = keys[rng.choice(len(keys), p=np.array([task_tokens[k] for k in keys]) / task_total)]
        if kind == "copy":
            length = args.copy_length or int(rng.choice(task_lengths))
            ids, labels = rows.copy_batch(lm_all, max(1, args.tokens_per_step // length), length, rng, device, copy_ids)
        else:
            length = key[1]
            batch_rows = rng.choice(lm_groups[key] if kind == "lm" else task_groups[key], size=max(1, args.tokens_per_step // length))
            ids, labels = rows.batch(batch_rows, length, device)
            if kind == "lm" and args.lm_positions < 1.0:
                labels = labels.masked_fill(torch.rand(labels.shape, device=labels.device) >= args.lm_positions, -100)
        with autocast():
            loss, n = loss_of(model, ids, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seen_tokens += ids.numel()
        loss_tokens += n
        window[kind].append(float(loss.detach()))
        if step % args.log_every == 0:
            entry = {"step": step, "s": round(time.time() - started, 1), "lr": lr, "tokens": seen_tokens,
                     "lm_loss": round(float(np.mean(window["lm"])), 4) if window["lm"] else None,
                     "task_loss": round(float(np.mean(window["task"])), 4) if window["task"] else None,
                     "copy_loss": round(float(np.mean(window["copy"])), 4) if window["copy"] else None}
            log["steps"].append(entry)
            rate = seen_tokens / max(1e-9, time.time() - started)
            print(f"step {step} {entry['s']}s lr {lr:.2e} lm {entry['lm_loss']} task {entry['task_loss']} copy {entry['copy_loss']} "
                  f"{rate / 1000:.0f}K tok/s", flush=True)
            window = {"lm": [], "task": [], "copy": []}

    wall = time.time() - started
    log.update({"trained_steps": step, "trained_tokens": seen_tokens, "loss_tokens": loss_tokens, "wall_s": round(wall, 1)})
    log["held_out_accuracy"] = answer_accuracy(model, rows, held_out, device, autocast)
    print(f"{args.stage}: {step} steps, {seen_tokens:,} tokens in {wall:.0f} s", flush=True)
    print("held-out answer accuracy (teacher-forced, whole answer):", json.dumps(log["held_out_accuracy"]), flush=True)
    save_hf_checkpoint(model, args.out)
    write_export_check(model, rows, held_out or [0], args.out)
    torch.save(model.state_dict(), os.path.join(args.out, "trainer_state.pt"))
    with open(os.path.join(args.out, "training_log.json"), "w") as f:
        json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()
