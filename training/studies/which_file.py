"""A CPU study of the hop in "Which file defines X?" with training/model.py at a small vocabulary (the demo model's
128,256-token lm_head is what makes CPU training slow, not its body): synthetic repositories of F files, each a
header (`==>` and a 3-token path, paths sharing 10 folders) and a body of filler with 1-3 definitions (`def` and a
symbol) and uses of other files' symbols (the symbol without `def`); then `Q symbol A` and the path as the answer.
Three forms of the same fact, trained from scratch side by side in separate runs:
  hop     the definition in a file body, the path in the header above it (what the demo model fails at);
  needle  a line `key symbol path` in the body, the path right after its key (RULER's form);
  index   as hop, with a definitions index before the files (a line per file: its path, then its symbols), so the
          path is a few tokens before the symbol instead of a file body away.
A --copy-share of the steps are copy rows (`BOS span span`, loss on the repeat, spans of random ids from the whole
vocabulary): induction, which both forms need, formed in the demo model only with such practice (training/README.md,
runs D and E). Prints held-out whole-path accuracy (greedy, teacher-forced over the path's 3 tokens) every
--eval-every steps. Runs on Debian's torch 1.13 on the CPUs and on the GPU machine's torch (--device cuda).

  /usr/bin/python3 training/studies/which_file.py --form hop --layers 4 --steps 1500 --body 8:24
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from model import Config, LlamaModel  # noqa: E402

BOS, HDR, HDR_END, DEF, Q, A, EOT, KEY, LINE = range(9)
FOLDERS = list(range(16, 26))
NAMES = list(range(26, 144))
SYMBOLS = list(range(144, 272))
FILLER = list(range(272, 4096))
VOCAB = 4096


def example(rng: random.Random, form: str, files: tuple[int, int], body: tuple[int, int], questions: int = 1) -> tuple[list[int], list[int]]:
    """Token ids and the indexes where the answers (path + EOT) start: `questions` of them, about different files,
    one after another (follow-ups, each answer in the loss)."""
    count = rng.randint(*files)
    paths = set()
    while len(paths) < count:
        paths.add((rng.choice(FOLDERS), rng.choice(NAMES), rng.choice(NAMES)))
    paths = list(paths)
    symbols = rng.sample(SYMBOLS, count * 3)
    owned = [symbols[i * 3:i * 3 + rng.randint(1, 3)] for i in range(count)]
    ids = [BOS]
    if form == "index":  # a definitions index before the files: a line per file, its path then its symbols
        for i, path in enumerate(paths):
            ids += [*path, *owned[i], LINE]
    for i, path in enumerate(paths):
        ids += [HDR, *path, HDR_END]
        length = rng.randint(*body)
        text = [rng.choice(FILLER) for _ in range(length)]
        others = [s for j, o in enumerate(owned) if j != i for s in o]
        for s in rng.sample(others, min(len(others), rng.randint(1, 3))):  # uses: a symbol without `def`
            text.insert(rng.randint(0, len(text)), s)
        for s in owned[i]:
            at = rng.randint(0, len(text))
            text[at:at] = [KEY, s, *path] if form == "needle" else [DEF, s]
        ids += text
    starts = []
    for target in rng.sample(range(count), min(count, questions)):
        ids += [Q, rng.choice(owned[target]), A]
        starts.append(len(ids))
        ids += [*paths[target], EOT]
    return ids, starts


def batch(rng, form, size, files, body, questions=1):
    rows = [example(rng, form, files, body, questions) for _ in range(size)]
    n = max(len(r) for r, _ in rows)
    ids = torch.full((size, n), EOT, dtype=torch.long)
    labels = torch.full((size, n), -100, dtype=torch.long)
    for b, (r, starts) in enumerate(rows):
        ids[b, :len(r)] = torch.tensor(r)
        for start in starts:  # the path and its EOT
            labels[b, start - 1:start + 3] = torch.tensor(r[start:start + 4])
    return ids, labels


def copy_batch(rng: random.Random, size: int, span: int):
    """Rows `BOS A A` with A `span` random ids: the loss on the repeat is lowered only by copying."""
    ids = torch.tensor([[BOS, *(a := [rng.randrange(16, VOCAB) for _ in range(span)]), *a] for _ in range(size)])
    labels = torch.full_like(ids, -100)
    labels[:, span:-1] = ids[:, span + 1:]
    return ids, labels


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--form", choices=["hop", "needle", "index"], default="hop")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--files", default="4:8")
    p.add_argument("--body", default="8:24")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--copy-share", type=float, default=0.5)
    p.add_argument("--copy-span", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--questions", type=int, default=1, help="questions per training row (held-out rows ask one)")
    p.add_argument("--init", help="start from this --save file (e.g. a copy-only run's, where induction has formed)")
    p.add_argument("--save", help="write the model's state here at the end")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    files = tuple(int(x) for x in a.files.split(":"))
    body = tuple(int(x) for x in a.body.split(":"))
    c = Config(vocab_size=VOCAB, hidden_size=a.hidden, intermediate_size=a.hidden * 3, num_hidden_layers=a.layers,
               num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0, max_position_embeddings=4096, bos_token_id=BOS, eos_token_id=(EOT,))
    model = LlamaModel(c).to(a.device)
    if a.init:
        model.load_state_dict(torch.load(a.init, map_location=a.device))
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    train_rng, eval_rng = random.Random(a.seed), random.Random(10_000 + a.seed)
    held = [batch(eval_rng, a.form, 64, files, body) for _ in range(2)]
    started = time.time()
    for step in range(1, a.steps + 1):
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, step / 100)
        copying = train_rng.random() < a.copy_share
        ids, labels = copy_batch(train_rng, a.batch, a.copy_span) if copying else batch(train_rng, a.form, a.batch, files, body, a.questions)
        ids, labels = ids.to(a.device), labels.to(a.device)
        mask = labels != -100  # logits only where there is a target: the softmax over the vocabulary is most of a CPU step
        loss = F.cross_entropy(model.logits(model.hidden_states(ids)[mask]), labels[mask])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % a.eval_every == 0 or step == a.steps:
            with torch.no_grad():
                right = total = 0
                for ids, labels in held:
                    ids, labels = ids.to(a.device), labels.to(a.device)
                    mask = labels != -100
                    pred = torch.full_like(labels, -1)
                    pred[mask] = model.logits(model.hidden_states(ids)[mask]).argmax(-1)
                    whole = ((pred == labels) | ~mask).all(-1)
                    right += int(whole.sum()); total += len(whole)
            print(f"{a.form} q{a.questions}{' from ' + os.path.basename(a.init) if a.init else ''} layers {a.layers} step {step} {'copy' if copying else 'task'} loss {loss.item():.3f} held-out whole path {100 * right / total:.0f}% "
                  f"({time.time() - started:.0f} s)", flush=True)
    if a.save:
        torch.save(model.state_dict(), a.save)


if __name__ == "__main__":
    main()
