"""Export a lab-model checkpoint to a single-file ONNX graph (opset 14) with a KV cache, and dump
PyTorch reference logits for compare_ort.mjs.

Graph contract (L = num_layers, KV = num_kv_heads, D = head_dim; all dims named are dynamic):
  inputs   input_ids                  int64   [batch, seq]
           cos                        float32 [seq, D/2]   cos(p * inv_freq), p = past_len .. past_len+seq-1
           sin                        float32 [seq, D/2]   sin(p * inv_freq)
           past_key_values.{i}.key    float32 [batch, KV, past_len, D]   i = 0 .. L-1 (past_len may be 0)
           past_key_values.{i}.value  float32 [batch, KV, past_len, D]
  outputs  logits                     float32 [batch, seq, 259]
           present.{i}.key            float32 [batch, KV, past_len+seq, D]   (keys are stored after RoPE)
           present.{i}.value          float32 [batch, KV, past_len+seq, D]
RoPE layout: rotate_half (Hugging Face Llama): x = [x1 | x2] (halves of D);
  out = [x1*cos - x2*sin | x2*cos + x1*sin];  inv_freq[j] = theta^(-2j/D), j = 0 .. D/2-1.
No attention mask input: every row of a batch has the same length (no padding).

  /usr/bin/python3 export_onnx.py --ckpt runs/stage1.pt --out ../../libs/inference/models/lab-stage1.onnx \
      --ref runs/ref-stage1 --ref-len 512
"""
from __future__ import annotations

import argparse
import copy
import inspect
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn

import data
from model import EOS, load_checkpoint, model_device, rope_tables


class ExportWrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, cos, sin, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, cos, sin, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def io_names(n_layers):
    ins = ["input_ids", "cos", "sin"]
    outs = ["logits"]
    for i in range(n_layers):
        ins += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outs += [f"present.{i}.key", f"present.{i}.value"]
    return ins, outs


def onnx_export_kwargs(export_fn=torch.onnx.export) -> dict:
    """Keyword arguments that select the TorchScript-based exporter of `export_fn`
    (torch.onnx.export). PyTorch 2.9 and later default to the dynamo exporter, with which this
    export fails (seen on PyTorch 2.11); `dynamo=False` selects the TorchScript one, which gives
    the same opset-14 graph as older versions. Versions without a `dynamo` keyword have only the
    TorchScript exporter, so nothing is passed to them."""
    try:
        params = inspect.signature(export_fn).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return {}
    return {"dynamo": False} if "dynamo" in params else {}


def export(model, path, opset=14):
    """Write `model` as a single-file ONNX graph (see the module docstring) and check it.

    The graph is traced from a CPU copy of the model in eval mode, so it does not depend on the
    device the model was trained on; `model` itself is not moved and keeps its mode."""
    model = copy.deepcopy(model).cpu().eval()
    c = model.c
    w = ExportWrapper(model)
    B, S, P = 2, 5, 3
    ids = torch.randint(0, 256, (B, S))
    cos, sin = rope_tables(range(P, P + S), 10000.0, c.head_dim)
    past = []
    for _ in range(c.num_layers):
        past += [torch.randn(B, c.num_kv_heads, P, c.head_dim), torch.randn(B, c.num_kv_heads, P, c.head_dim)]
    ins, outs = io_names(c.num_layers)
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "cos": {0: "seq"}, "sin": {0: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for n in ins[3:]:
        dyn[n] = {0: "batch", 2: "past_len"}
    for n in outs[1:]:
        dyn[n] = {0: "batch", 2: "total_len"}
    with torch.no_grad():
        torch.onnx.export(w, (ids, cos, sin, *past), path, input_names=ins, output_names=outs, dynamic_axes=dyn,
                          opset_version=opset, do_constant_folding=True, **onnx_export_kwargs(torch.onnx.export))
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


@torch.no_grad()
def dump_reference(model, theta, prefix, ref_len, seed=7):
    """Case 'random': batch 2, 64 random ids, full-forward logits (ORT: prefill 48, decode 16 with the cache).
    Case 'niah': one canonical eval prompt of ref_len bytes; full-forward logits of the prompt, then
    PyTorch greedy decoding with the cache (until EOS, at most 64 steps) and each step's logits.
    Runs on the model's device; the ids are drawn on the CPU, so they do not depend on it."""
    c = model.c
    dev = model_device(model)
    model.eval()
    g = torch.Generator().manual_seed(seed)
    rand_ids = torch.randint(0, 259, (2, 64), generator=g)
    cos, sin = rope_tables(range(64), theta, c.head_dim)
    rand_logits, _ = model(rand_ids.to(dev), cos.to(dev), sin.to(dev))

    corpus = data.Corpus("eval")
    ids, _, nums = data.make_batch(corpus, ref_len, 1, np.random.default_rng([seed, ref_len]), depth=0.5, canonical=True)
    P = ref_len
    prompt = torch.from_numpy(ids[:, :P])
    cos, sin = (t.to(dev) for t in rope_tables(range(P + 64), theta, c.head_dim))  # the prompt's rows and every decode step's
    empty = [(torch.zeros(1, c.num_kv_heads, 0, c.head_dim, device=dev),) * 2 for _ in range(c.num_layers)]
    logits, past = model(prompt.to(dev), cos[:P], sin[:P], empty)
    prompt_logits = logits[0]
    step_logits, gen = [], []
    nxt = int(logits[0, -1].argmax())
    for t in range(64):
        if gen and gen[-1] == EOS:
            break
        gen.append(nxt)
        lg, past = model(torch.tensor([[nxt]], device=dev), cos[P + t:P + t + 1], sin[P + t:P + t + 1], past)
        step_logits.append(lg[0, 0])
        nxt = int(lg[0, -1].argmax())
    blobs = [rand_logits.reshape(-1), prompt_logits.reshape(-1), torch.stack(step_logits).reshape(-1)]
    flat = torch.cat(blobs).cpu().numpy().astype("<f4")
    flat.tofile(prefix + ".bin")
    meta = {
        "theta": theta, "headDim": c.head_dim, "numLayers": c.num_layers, "numKeyValueHeads": c.num_kv_heads, "vocabSize": c.vocab_size,
        "random": {"ids": rand_ids.tolist(), "offset": 0, "shape": [2, 64, c.vocab_size], "prefill": 48},
        "niah": {"ids": prompt[0].tolist(), "expected": nums[0], "promptOffset": blobs[0].numel(), "promptShape": [P, c.vocab_size],
                  "generated": gen, "stepsOffset": blobs[0].numel() + blobs[1].numel(), "stepsShape": [len(gen), c.vocab_size]},
    }
    with open(prefix + ".json", "w") as f:
        json.dump(meta, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--ref", default=None, help="prefix for reference logits (.json + .bin) for compare_ort.mjs")
    ap.add_argument("--ref-len", type=int, default=512)
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, ck = load_checkpoint(a.ckpt, "cpu")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    m = export(model, a.out, a.opset)
    print(f"exported {a.out}: {os.path.getsize(a.out)} bytes, opset {a.opset}, theta {ck['theta']}")
    print("inputs ", [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input])
    print("outputs", [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output])
    if a.ref:
        dump_reference(model, ck["theta"], a.ref, a.ref_len)
        print(f"reference logits: {a.ref}.json/.bin")


if __name__ == "__main__":
    main()
