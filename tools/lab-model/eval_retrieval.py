"""Value-retrieval accuracy of a lab-model checkpoint, by context length x needle depth.

A sample scores 1 when the 7 digits of the needle's number appear in the greedy answer (up to 64
tokens or EOS; argmax over the full 259-id vocabulary) -- ctxlab's `value` scorer. For speed, one
teacher-forced pass per batch first checks whether greedy decoding would reproduce the reference
answer "The special magic {city} number is: {n}." up to its last digit (exact); only the other
samples are decoded token by token with the KV cache. `--check-decode N` also greedy-decodes N
"exact" samples per cell to confirm that shortcut.

Haystacks come from the held-out split (State of the Union addresses from 2001 on; training
uses the addresses before 2001). Prompts use the canonical format (see data.py).

`--device cuda` (or cuda:N) maps the checkpoint's tensors onto that device as they are read and
creates every input there; the default is cpu.

  /usr/bin/python3 eval_retrieval.py --ckpt runs/stage1.pt --lengths 512,1024,2048 \
      --depths 0,0.25,0.5,0.75,1 --n 20 --json out.json
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import data
from lab_io import resolve_device, run_cli
from model import EOS, load_checkpoint, model_device, rope_tables


@torch.no_grad()
def teacher_forced(model, ids: np.ndarray, prompt_len: int, digit_starts, theta: float, device=None, scaling=None) -> np.ndarray:
    """ids [B, T] (prompt + answer + EOS + PAD); returns bool [B]: the argmax at every answer
    position up to the last digit equals the reference answer (so greedy decoding reproduces it).
    Inputs are created on `device` (default: the model's)."""
    device = device if device is not None else model_device(model)
    x = torch.from_numpy(ids[:, :-1]).to(device)
    cos, sin = rope_tables(range(x.shape[1]), theta, model.c.head_dim, scaling)
    logits, _ = model(x, cos.to(device), sin.to(device))
    pred = logits.argmax(-1).cpu().numpy()
    ok = []
    for b, ds in enumerate(digit_starts):
        end = ds + data.DIGITS
        ok.append(bool((pred[b, prompt_len - 1:end - 1] == ids[b, prompt_len:end]).all()))
    return np.array(ok)


@torch.no_grad()
def greedy_decode(model, prompt: np.ndarray, theta: float, max_new=12, device=None, scaling=None) -> list:
    """Prefill prompt [1, P] then decode token by token with the KV cache; stops at EOS.
    Inputs are created on `device` (default: the model's)."""
    c = model.c
    device = device if device is not None else model_device(model)
    x = torch.from_numpy(prompt).to(device)
    P = x.shape[1]
    past = [(torch.zeros(1, c.num_kv_heads, 0, c.head_dim, device=device),) * 2 for _ in range(c.num_layers)]
    # rotary rows of every position the prompt and the decoded tokens can take, computed once
    cos, sin = (t.to(device) for t in rope_tables(range(P + max_new), theta, c.head_dim, scaling))
    logits, past = model(x, cos[:P], sin[:P], past)
    out = []
    for pos in range(P, P + max_new):
        t = int(logits[0, -1].argmax())
        out.append(t)
        if t == EOS:
            break
        logits, past = model(torch.tensor([[t]], device=device), cos[pos:pos + 1], sin[pos:pos + 1], past)
    return out


def decode_answer(model, prompt: np.ndarray, theta: float, device=None, scaling=None):
    """Greedy answer (up to 64 tokens or EOS) of prompt [1, P]: (token ids, its text)."""
    out = greedy_decode(model, prompt, theta, max_new=64, device=device, scaling=scaling)
    return out, bytes(t for t in out if t < 256).decode("utf-8", "replace")


def grid(model, theta, lengths, depths, n, seed, device=None, corpus=None, batch_tokens=8192, canonical=True, decode=True, scaling=None, check_decode=0):
    """score = the 7 digits appear in the greedy answer (ctxlab's value scorer). Rows whose
    teacher-forced answer is exact are correct without decoding (greedy reproduces the reference);
    the others are greedy-decoded with the KV cache (up to 64 tokens or EOS) and searched for the
    number. decode=False skips that (a lower bound; used for the quick eval during training).
    Inputs are created on `device` (default: the model's), which must be where the model is."""
    corpus = corpus or data.Corpus("eval")
    device = device if device is not None else model_device(model)
    model.eval()
    res = {"theta": theta, "lengths": lengths, "depths": depths, "n_per_cell": n, "cells": {}, "by_length": {},
           "exact_sentence_by_length": {}, "samples": []}
    for L in lengths:
        tot = exact_tot = 0
        for d in depths:
            # fixed seed per cell, independent of which other cells are evaluated
            rng = np.random.default_rng([seed, L, int(round(d * 1000))])
            ids, ds, nums = data.make_batch(corpus, L, n, rng, depth=d, canonical=canonical)
            exact = []
            bs = max(1, batch_tokens // ids.shape[1])
            for i in range(0, n, bs):
                exact.extend(teacher_forced(model, ids[i:i + bs], L, ds[i:i + bs], theta, device, scaling).tolist())
            ok = []
            for j in range(n):
                if exact[j] or not decode:
                    ok.append(exact[j])
                    continue
                out, got = decode_answer(model, ids[j:j + 1, :L], theta, device, scaling)
                ok.append(nums[j] in got)
                if len(res["samples"]) < 200:
                    res["samples"].append({"L": L, "depth": d, "expected": nums[j], "answer": got, "eos": out[-1] == EOS, "score": ok[-1]})
            for j in [j for j in range(n) if exact[j]][:check_decode]:
                _, got = decode_answer(model, ids[j:j + 1, :L], theta, device, scaling)
                res.setdefault("decode_checks", []).append({"L": L, "depth": d, "expected": nums[j], "answer": got, "agrees": nums[j] in got})
            res["cells"][f"{L}@{d}"] = float(np.mean(ok))
            tot += sum(ok)
            exact_tot += sum(exact)
        res["by_length"][str(L)] = tot / (n * len(depths))
        res["exact_sentence_by_length"][str(L)] = exact_tot / (n * len(depths))
    model.train()
    return res


def print_grid(res):
    depths = res["depths"]
    print("depth \\ length " + "".join(f"{L:>8}" for L in res["lengths"]))
    for d in depths:
        print(f"{d:>14.2f} " + "".join(f"{res['cells'][f'{L}@{d}']*100:>7.0f}%" for L in res["lengths"]))
    print(f"{'mean':>14} " + "".join(f"{res['by_length'][str(L)]*100:>7.1f}%" for L in res["lengths"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--theta", type=float, default=None, help="RoPE theta (default: the checkpoint's)")
    ap.add_argument("--lengths", default="512,1024,2048")
    ap.add_argument("--depths", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--n", type=int, default=20, help="samples per cell")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--variant", choices=["canonical", "mixed"], default="canonical", help="mixed = the training format mixture")
    ap.add_argument("--check-decode", type=int, default=0, help="also greedy-decode N teacher-forced-exact samples per cell (sanity check)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N: where the model is loaded and evaluated")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    device = resolve_device(a.device)
    torch.set_num_threads(a.threads)
    model, ck = load_checkpoint(a.ckpt, device)
    theta = a.theta if a.theta is not None else ck["theta"]
    t0 = time.time()
    res = grid(model, theta, [int(x) for x in a.lengths.split(",")], [float(x) for x in a.depths.split(",")], a.n, a.seed,
               device, canonical=a.variant == "canonical", check_decode=a.check_decode)
    res["ckpt"] = a.ckpt
    res["variant"] = a.variant
    res["device"] = str(device)
    res["seconds"] = round(time.time() - t0, 1)
    print(f"ckpt {a.ckpt} theta {theta} variant {a.variant} device {device} ({res['seconds']} s)")
    print_grid(res)
    print("exact answer sentence (teacher-forced) by length:", {k: round(v, 3) for k, v in res["exact_sentence_by_length"].items()})
    if "decode_checks" in res:
        dc = res["decode_checks"]
        print(f"KV-cache greedy decode of teacher-forced-exact samples: {sum(c['agrees'] for c in dc)}/{len(dc)} contain the number")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    run_cli(main)
