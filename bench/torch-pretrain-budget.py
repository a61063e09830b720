#!/usr/bin/python3
"""PyTorch pre-training on llmkit token shards for a wall-clock budget: the anchor for
`llmkit pretrain`'s "validation bits per byte after N minutes" figure.

Uses the model of ../shared/bench/torch_llama_train_bench.py (same architecture as llmkit's tiny and
small presets) with llmkit's defaults: AdamW (0.9, 0.95, weight decay 0.1 on matrices), linear warmup
then cosine decay to min_lr over the steps that fit the budget (measured on the first steps), clip 1.0,
random windows of the training shards, validation on evenly spread windows of the validation shards,
bits per byte = loss / UTF-8 bytes of the predicted tokens / ln 2 (special tokens count no bytes).

Usage: OMP_NUM_THREADS=2 LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
  bench/torch-pretrain-budget.py TOKENS_DIR TOKENIZER_JSON --seconds 800 [--preset tiny] [--threads 2]
"""
import argparse, json, math, os, struct, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/bench"))
import torch
import torch.nn.functional as F
from torch_llama_train_bench import Llama, PRESETS


def read_shard(path):
    with open(path, "rb") as f:
        head = f.read(64)
        width, count = struct.unpack_from("<i", head, 12)[0], struct.unpack_from("<q", head, 24)[0]
        data = f.read(count * width)
    if width == 2:
        return torch.frombuffer(bytearray(data), dtype=torch.int16).to(torch.int64) & 0xFFFF
    return torch.frombuffer(bytearray(data), dtype=torch.int32).to(torch.int64)


def byte_lengths(tokenizer_json, vocab):
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    decode = {chr(c): b for b, c in zip(bs, cs)}
    tok = json.load(open(tokenizer_json, encoding="utf-8"))
    lengths = [0] * vocab
    for s, i in tok["model"]["vocab"].items():
        lengths[i] = sum(1 for ch in s if ch in decode)
    for a in tok.get("added_tokens", []):
        lengths[a["id"]] = 0
    return torch.tensor(lengths, dtype=torch.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tokens"); ap.add_argument("tokenizer")
    ap.add_argument("--seconds", type=float, default=900); ap.add_argument("--preset", default="tiny")
    ap.add_argument("--threads", type=int, default=2); ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3); ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    a = ap.parse_args()
    t_start = time.perf_counter()
    torch.manual_seed(1337); torch.set_num_threads(a.threads)
    manifest = json.load(open(os.path.join(a.tokens, "manifest.json")))
    train = [read_shard(os.path.join(a.tokens, s["file"])) for s in manifest["shards"] if s["split"] == "train"]
    val = [read_shard(os.path.join(a.tokens, s["file"])) for s in manifest["shards"] if s["split"] == "val"]
    c = dict(PRESETS[a.preset]); c["vocab"] = manifest["tokenizer"]["vocab_size"]
    B, T = c["batch"], c["seq"]
    lengths = byte_lengths(a.tokenizer, c["vocab"])
    model = Llama(c)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95))
    train_all = torch.cat(train)
    windows = [(v, k) for v in val for k in range(len(v) // (T + 1))]
    pick = [windows[len(windows) * w // min(128, len(windows))] for w in range(min(128, len(windows)))]

    def validate():
        model.eval(); nll = 0.0; nbytes = 0.0
        with torch.no_grad():
            for i in range(0, len(pick), B):
                chunk = torch.stack([v[k * (T + 1):(k + 1) * (T + 1)] for v, k in pick[i:i + B]])
                x, y = chunk[:, :-1], chunk[:, 1:]
                nll += model(x, y).item() * y.numel(); nbytes += lengths[y].sum().item()
        model.train()
        return nll / (len(pick) * T), nll / nbytes / math.log(2)

    def lr_at(step, total):
        if step < a.warmup: return a.lr * (step + 1) / a.warmup
        p = min(1.0, (step - a.warmup) / max(1, total - a.warmup))
        return a.min_lr + 0.5 * (1 + math.cos(math.pi * p)) * (a.lr - a.min_lr)

    total, step, best, log = None, 0, None, []
    t_probe = None
    while True:
        if step == 3:
            t_probe = time.perf_counter()
        if total is None and step == 13:     # steps that fit the budget, from the speed of steps 3..13 (after warm-up)
            per_step = (time.perf_counter() - t_probe) / 10
            total = int((a.seconds - (time.perf_counter() - t_start)) / (per_step * 1.06)) + step
        for g in opt.param_groups: g["lr"] = lr_at(step, total or 10 ** 9)
        idx = torch.randint(0, len(train_all) - T - 1, (B,))
        chunk = torch.stack([train_all[i:i + T + 1] for i in idx])
        loss = model(chunk[:, :-1], chunk[:, 1:])
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        step += 1
        done = total is not None and (step >= total or time.perf_counter() - t_start > a.seconds)
        if step % a.eval_every == 0 or done:
            vl, bpb = validate()
            best = bpb if best is None else min(best, bpb)
            log.append({"step": step, "loss": round(loss.item(), 4), "val_loss": round(vl, 4), "val_bpb": round(bpb, 4)})
            print(json.dumps(log[-1]), flush=True)
        if done: break
    wall = time.perf_counter() - t_start
    print(json.dumps({"anchor": "pytorch", "preset": a.preset, "steps": step, "tokens": step * B * T, "wall_s": round(wall, 1),
                      "final_val_bpb": log[-1]["val_bpb"], "best_val_bpb": round(best, 4)}))


if __name__ == "__main__":
    main()
