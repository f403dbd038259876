"""Train the ctxlab lab model on synthetic value retrieval (see data.py and README.md).

Stage 1:  /usr/bin/python3 train.py --stage 1 --theta 10000 --seq-len 512 --steps 900 --out runs/stage1.pt
Stage 2:  /usr/bin/python3 train.py --stage 2 --init runs/stage1.pt --seq-len 2048 --steps 150 --out runs/stage2.pt
          (theta defaults to the dynamic-NTK rule of field-notes §2 applied to the init's theta)

Loss = cross-entropy on the answer ("The special magic {city} number is: {n}." + EOS) + --lm-weight x cross-entropy on every other
next-byte prediction of the sample (the haystack LM loss). Each step draws one prompt length from
--lengths and fills the batch with --batch-tokens / length samples of that length.
Writes OUT (checkpoint, rewritten every --ckpt-every steps and at the end) and OUT minus .pt plus
.csv (the loss curve).

--init accepts any form lab_io.load_model reads: a .pt checkpoint, a lab model directory or a lab
.onnx graph. --out ending in ".pt" is a checkpoint file (as above); any other --out is a lab model
directory: OUT/model.pt is the checkpoint during training (so --resume works), OUT/loss.csv the
loss curve, and at the end OUT/model.onnx and OUT/config.json are written too (rope_theta = the
stage's theta, max_position_embeddings = the longest prompt length trained at, i.e. --seq-len
unless --lengths goes beyond it). The directory is complete once the "done: ..." line is printed.

Progress lines on stdout: "step N/M len ... loss_ans ..." every 10 steps and at each quick eval,
then "done: N steps, S s wall, saved OUT". Errors: one line "error: ..." on stderr, exit status 1
(malformed arguments: exit status 2).
"""
from __future__ import annotations

import csv
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import lab_io
from eval_retrieval import grid
from lab_io import LabIOError
from model import Config, LabModel, ntk_dynamic_theta, num_params, rope_tables


def parse_lengths(spec: str):
    """'512:0.5,128-512:0.5' -> [(lo, hi, weight)]"""
    out = []
    for part in spec.split(","):
        rng, w = part.split(":")
        lo, hi = (rng.split("-") + [rng])[:2] if "-" in rng else (rng, rng)
        out.append((int(lo), int(hi), float(w)))
    return out


def draw_length(spec, rng):
    w = np.array([s[2] for s in spec])
    lo, hi, _ = spec[rng.choice(len(spec), p=w / w.sum())]
    return lo if lo == hi else int(rng.integers(lo // 8, hi // 8 + 1)) * 8


SYNTH_CHARSET = torch.tensor(list(b"abcdefghijklmnopqrstuvwxyz0123456789 .,:"))


def synth_chars(rng, batch, T):
    """[batch, T] random SYNTH_CHARSET bytes after a BOS, from a torch generator seeded by rng."""
    g = torch.Generator().manual_seed(int(rng.integers(2**62)))
    x = SYNTH_CHARSET[torch.randint(len(SYNTH_CHARSET), (batch, T), generator=g)]
    x[:, 0] = 256
    return x


def synth_copy_batch(rng, batch, T):
    """BOS + random characters in which one span (8-20 chars) appears twice; mask = bytes of the
    second copy from its 3rd character on (predictable only by copying)."""
    x = synth_chars(rng, batch, T)
    mask = torch.zeros(batch, T, dtype=torch.bool)
    for b in range(batch):
        ln = int(rng.integers(8, 21))
        p1 = int(rng.integers(1, T - 2 * ln))
        p2 = int(rng.integers(p1 + ln, T - ln + 1))
        x[b, p2:p2 + ln] = x[b, p1:p1 + ln]
        mask[b, p2 + 2:p2 + ln] = True
    return x, mask


def synth_half_batch(rng, batch, T):
    """BOS + h random characters + the same h characters again (h = (T-1)//2, padded with random
    characters to T); mask = the second copy from its 2nd character on. Dense copy targets: the
    induction circuit forms within ~100 steps on this task (tools/lab-model/diag_copy.py), while
    the sparse single-span task of synth_copy_batch stays near chance for hundreds of steps."""
    h = (T - 1) // 2
    x = synth_chars(rng, batch, T)
    x[:, 1 + h:1 + 2 * h] = x[:, 1:1 + h]
    mask = torch.zeros(batch, T, dtype=torch.bool)
    mask[:, 2 + h:1 + 2 * h] = True
    return x, mask


def synth_var_batch(rng, batch, T):
    """BOS + random characters in which one long span (h = 16 .. (T-1)//2 characters) occurs twice
    at a random offset (>= h); mask = the second copy from its 2nd character on. Dense copy targets
    (like synth_half_batch) but the distance between the copies varies, so the task cannot be
    solved by a fixed-offset positional head: it needs content-based induction."""
    x = synth_chars(rng, batch, T)
    mask = torch.zeros(batch, T, dtype=torch.bool)
    for b in range(batch):
        h = int(rng.integers(16, (T - 1) // 2 + 1))
        p1 = int(rng.integers(1, T - 2 * h + 1))
        p2 = int(rng.integers(p1 + h, T - h + 1))
        x[b, p2:p2 + h] = x[b, p1:p1 + h]
        mask[b, p2 + 1:p2 + h] = True
    return x, mask


@torch.no_grad()
def init_prev_token_head(model, amp=7.0, pairs=4, const=0.1):
    """Training aid (initialisation only; the architecture is unchanged): makes layer 0's query
    head 0 a previous-token head from step 0. Every token embedding gets the same value `const`
    in its last coordinate, so RMSNorm's output has a nearly content-independent component; the
    head's query and key read only that coordinate and are set, on the `pairs` highest-frequency
    rotary pairs, to q_f = amp and k_f = amp * e^{i w_f}, so that q.R(i-j)k = amp^2 * sum_f
    cos(w_f (i-j-1)) peaks at j = i-1. Everything else (values, outputs, later layers) is learned.
    The induction circuit that retrieval needs (match the previous token, copy the next) then only
    has to learn its second half."""
    c = model.c
    model.embed_tokens.weight[:, -1] = const
    att = model.layers[0].self_attn
    D, half = c.head_dim, c.head_dim // 2
    w = 1.0 / (10000.0 ** (torch.arange(0, D, 2, dtype=torch.float64) / D))  # frequencies of the stage-1 theta
    att.q_proj.weight[0:D].zero_()
    att.k_proj.weight[0:D].zero_()
    for f in range(pairs):
        att.q_proj.weight[f, -1] = amp
        att.k_proj.weight[f, -1] = amp * float(torch.cos(w[f]))
        att.k_proj.weight[half + f, -1] = amp * float(torch.sin(w[f]))


@torch.no_grad()
def init_induction_circuit(model, theta=10000.0, const=0.5, amp=7.0, pairs=4, emb_std=0.1, beta=4.0, gamma=1.0 / 12, delta=0.35, seed=1234):
    """Training aid (initialisation only; the architecture is unchanged, all weights stay trainable):
    writes a hand-made induction circuit into the freshly initialised weights, because on one CPU
    thread the circuit does not emerge from gradient descent in the available steps
    (diag_copy.py: the copy loss stays at chance for hundreds of steps when the distance between the
    copies varies).

    Residual layout: dims 0..63 token identity u(t) (the tied embedding; its other dims start at 0),
    64..95 the previous token's code, 96..126 the token-before-previous's code, 127 a constant.
      layer 0 head 0: previous-token head (RoPE phase trick on the constant dim, as init_prev_token_head);
              its value A u (32-d code) is written to dims 64..95
      layer 0 head 2: the same with offset 2, its code B u written to dims 96..126
      layer 1 head 0: induction head: query = A u(t_i), key = the previous-token code at j, both on the
              4 lowest-frequency rotary pairs (dims 12..15, 28..31: nearly position-free up to ~2k
              tokens at theta 1e4), so it attends to the positions j with t_{j-1} = t_i; its value/output
              copy u(t_j) (projected on 32 dims) back into dims 0..63, raising the logit of t_j.
    Other heads/MLPs keep their random init except that unused heads of layers 0-1 get zero outputs."""
    c = model.c
    assert (c.hidden_size, c.head_dim, c.num_heads, c.num_kv_heads) == (128, 32, 4, 2), "circuit layout assumes 128/32/4/2"
    g = torch.Generator().manual_seed(seed)
    D, half = c.head_dim, c.head_dim // 2
    E = model.embed_tokens.weight
    E.zero_()
    E[:, :64] = torch.randn(E.shape[0], 64, generator=g) * emb_std
    E[:, 127] = const
    w = 1.0 / (float(theta) ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
    A = torch.linalg.qr(torch.randn(64, 32, generator=g))[0].T.float()  # [32, 64] orthonormal rows
    Bm = torch.linalg.qr(torch.randn(64, 32, generator=g))[0].T.float()
    a0 = model.layers[0].self_attn
    a0.q_proj.weight.zero_(); a0.k_proj.weight.zero_(); a0.v_proj.weight.zero_(); a0.o_proj.weight.zero_()
    for qh, kvh, off in ((0, 0, 1), (2, 1, 2)):
        for f in range(pairs):
            a0.q_proj.weight[qh * D + f, 127] = amp
            a0.k_proj.weight[kvh * D + f, 127] = amp * float(torch.cos(off * w[f]))
            a0.k_proj.weight[kvh * D + half + f, 127] = amp * float(torch.sin(off * w[f]))
    a0.v_proj.weight[0:32, 0:64] = A
    a0.v_proj.weight[32:64, 0:64] = Bm
    for r in range(32):
        a0.o_proj.weight[64 + r, r] = gamma          # head 0 (prev token) -> dims 64..95
    for r in range(31):
        a0.o_proj.weight[96 + r, 64 + r] = gamma     # head 2 (token before) -> dims 96..126
    for L in model.layers[:2]:
        L.mlp.down_proj.weight.mul_(0.1)
    a1 = model.layers[1].self_attn
    low = [f for f in range(half - 4, half)] + [half + f for f in range(half - 4, half)]  # dims 12..15, 28..31
    a1.q_proj.weight[0:32].zero_(); a1.k_proj.weight[0:32].zero_()
    for m, dim in enumerate(low):
        a1.q_proj.weight[dim, 0:64] = beta * A[m]          # A u(t_i), code coordinates 0..7
        a1.k_proj.weight[dim, 64 + m] = beta               # previous token's code at j, same coordinates
    Cm = torch.linalg.qr(torch.randn(64, 32, generator=g))[0].T.float()
    a1.v_proj.weight[0:32].zero_()
    a1.v_proj.weight[0:32, 0:64] = Cm
    a1.o_proj.weight.zero_()
    a1.o_proj.weight[0:64, 0:32] = delta * Cm.T        # copy the attended token's identity
    a1.o_proj.weight[:, 64:128].normal_(0, 0.02, generator=g)  # heads 2, 3 stay generic


def save(path, model, opt, step, args, theta, extra):
    """Write the checkpoint (tensors copied to the CPU, so it loads on any machine) under a
    temporary name, then rename it."""
    tmp = path + ".tmp"
    torch.save({"model": lab_io.cpu_tensors(model.state_dict()), "opt": lab_io.cpu_tensors(opt.state_dict()), "step": step,
                "config": model.c.to_dict(), "theta": theta, "args": vars(args), **extra}, tmp)
    os.replace(tmp, path)


def min_prompt_len() -> int:
    """The shortest prompt length data.make_sample accepts for every city: BOS + "### User:\n" +
    the longest wrapped needle + the longest question block + 16 bytes of haystack, rounded up to
    a multiple of 8 (152 bytes)."""
    city = max(data.CITIES, key=len)
    needle = len(("\n" + data.needle_text(city, "0" * data.DIGITS, True) + "\n").encode())
    tail = len(("\n\n" + data.question_text(city) + "\n\n### Assistant:\n").encode())
    n = 1 + len("### User:\n".encode()) + needle + tail + 16
    return -(-n // 8) * 8


def max_trained_len(seq_len: int, lengths) -> int:
    """The longest prompt length of the run: --seq-len, or more if --lengths goes beyond it."""
    return max([seq_len] + [hi for _, hi, _ in lengths])


def main():
    ap = lab_io.OneLineParser(prog="train.py")
    ap.add_argument("--stage", type=int, choices=[1, 2], required=True)
    ap.add_argument("--theta", type=float, default=None, help="RoPE theta; stage 1 default 10000; stage 2 default: dynamic NTK from the init's theta")
    ap.add_argument("--seq-len", type=int, required=True, help="prompt length in bytes (the answer's 8 tokens follow)")
    ap.add_argument("--lengths", default=None, help="length mixture, e.g. '512:0.5,128-512:0.5' (default depends on stage)")
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--init", default=None, help="model to initialise from (stage 2): .pt checkpoint, lab model directory or lab .onnx")
    ap.add_argument("--resume", action="store_true", help="continue OUT (model, optimiser, step) if it exists")
    ap.add_argument("--out", required=True, help="checkpoint file (ends in .pt) or lab model directory (anything else)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (checkpoints are written with CPU tensors; the ONNX graph is exported from a CPU copy)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-tokens", type=int, default=4096)
    ap.add_argument("--lr", type=float, default=None, help="peak lr (stage 1: 3e-3, stage 2: 1e-3)")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--lm-weight", type=float, default=0.1)
    ap.add_argument("--copy-spans", type=int, default=0, help="training aid: random strings written twice into each haystack (see data.py)")
    ap.add_argument("--copy-until", type=int, default=10**9, help="use --copy-spans only up to this step")
    ap.add_argument("--copy-weight", type=float, default=1.0, help="loss weight of the copied bytes")
    ap.add_argument("--synth-copy", type=int, default=0, help="training aid: add a synthetic copy batch (random strings, one span repeated) to each of the first N steps")
    ap.add_argument("--prev-token-init", action="store_true", help="training aid: initialise layer 0 head 0 as a previous-token head (see init_prev_token_head)")
    ap.add_argument("--induction-init", action="store_true", help="training aid: write a hand-made induction circuit into the init (see init_induction_circuit)")
    ap.add_argument("--synth-only", type=int, default=0, help="the first N steps train on the synthetic copy batch only")
    ap.add_argument("--synth-len", type=int, default=64)
    ap.add_argument("--synth-task", choices=["span", "half", "var"], default="span", help="synthetic copy batch: span = one 8-20 char span repeated; half = the second half repeats the first (fixed offset: learnable by a positional head); var = one long span repeated at a random offset (dense, needs induction)")
    ap.add_argument("--synth-batch", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=4.0, help="dynamic-NTK alpha for the stage-2 theta")
    ap.add_argument("--base-len", type=int, default=512, help="L0 for the stage-2 theta")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-n", type=int, default=8, help="quick eval: samples per depth (5 depths) at --seq-len")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--stop-acc", type=float, default=None, help="stop early once the quick eval reaches this twice in a row")
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this much wall time")
    # architecture (stage 1 only; stage 2 takes the init's)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=32)
    ap.add_argument("--intermediate", type=int, default=384)
    a = ap.parse_args()
    for name in ("seq_len", "steps", "batch_tokens", "threads"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    if a.eval_every < 0 or a.ckpt_every < 1:
        ap.error("--eval-every must be >= 0 and --ckpt-every >= 1")
    min_len = min_prompt_len()
    lo1 = min(max(128, min_len), a.seq_len)  # shortest default stage-1 length (shorter prompts cannot be built)
    lo2 = min(512, a.seq_len)  # shortest default stage-2 length
    lengths_spec = a.lengths or (f"{a.seq_len}:0.5,{lo1}-{a.seq_len}:0.5" if a.stage == 1 else f"{a.seq_len}:0.6,{lo2}:0.2,{lo2}-{a.seq_len}:0.2")
    try:
        lengths = parse_lengths(lengths_spec)
    except ValueError:
        ap.error(f"--lengths {a.lengths!r}: expected e.g. '512:0.5,160-512:0.5'")
    if a.seq_len < min_len:
        ap.error(f"--seq-len {a.seq_len} is too short: prompts need at least {min_len} bytes (longest needle and question + 16 bytes of haystack)")
    for lo, hi, wt in lengths:
        if lo < min_len or hi < lo or wt < 0:
            ap.error(f"--lengths range {lo}-{hi}:{wt} is not usable (lengths >= {min_len}, lo <= hi, weight >= 0)")
    max_pos = max_trained_len(a.seq_len, lengths)
    out_dir = None if a.out.endswith(".pt") else a.out
    ck_path = os.path.join(out_dir, lab_io.MODEL_PT) if out_dir else a.out
    if out_dir and os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise LabIOError(f"--out {out_dir}: exists and is not a directory (an --out that does not end in .pt is a lab model directory)")

    dev = lab_io.resolve_device(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    extra = {"stage": a.stage}

    if a.init:
        loaded = lab_io.load_model(a.init, require_rope=False)
        model, init_theta = loaded.model, loaded.theta
        model.train()
        print(f"init: {loaded.describe()}", flush=True)
        extra["init"] = a.init
        extra["init_theta"] = init_theta
    else:
        model = LabModel(Config(hidden_size=a.hidden, num_layers=a.layers, num_heads=a.heads, num_kv_heads=a.kv_heads,
                                head_dim=a.head_dim, intermediate_size=a.intermediate))
        init_theta = None
        if a.prev_token_init:
            init_prev_token_head(model)
        if a.induction_init:
            init_induction_circuit(model, theta=a.theta or 10000.0)
    if a.theta is not None:
        theta = a.theta
    elif a.stage == 2:
        if init_theta is None:
            raise LabIOError("stage 2 needs --init with a known RoPE theta (or an explicit --theta)" if a.init
                             else "stage 2 needs --init (or an explicit --theta)")
        exact = ntk_dynamic_theta(init_theta, a.alpha, a.seq_len, a.base_len, model.c.head_dim)
        theta = int(exact)
        print(f"dynamic-NTK theta: {init_theta} * (({a.alpha}*{a.seq_len}/{a.base_len}) - ({a.alpha}-1))^({model.c.head_dim}/({model.c.head_dim}-2)) "
              f"= {exact!r} -> truncated {theta}")
    else:
        theta = 10000.0
    theta = float(theta)
    lr_peak = a.lr or (3e-3 if a.stage == 1 else 1e-3)
    warmup = a.warmup if a.warmup is not None else (50 if a.stage == 1 else 20)
    model.to(dev)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=lr_peak, betas=(0.9, 0.95))
    step0 = 0
    csv_path = os.path.join(out_dir, "loss.csv") if out_dir else os.path.splitext(a.out)[0] + ".csv"
    if a.resume and os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location=dev)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step0 = ck["step"]
        extra = {k: ck[k] for k in ("stage", "init", "init_theta", "wall_seconds") if k in ck}
        print(f"resumed {ck_path} at step {step0}", flush=True)
    os.makedirs(out_dir or os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if out_dir:
        for stale in (lab_io.CONFIG_JSON, lab_io.MODEL_ONNX):  # rewritten at the end; until then the directory is incomplete
            if os.path.exists(os.path.join(out_dir, stale)):
                os.remove(os.path.join(out_dir, stale))
                print(f"removed {os.path.join(out_dir, stale)} (written again at the end)", flush=True)
    new_csv = not (a.resume and os.path.exists(csv_path) and step0 > 0)
    fcsv = open(csv_path, "w" if new_csv else "a", newline="")
    w = csv.writer(fcsv)
    if new_csv:
        w.writerow(["step", "seq_len", "batch", "loss_answer", "loss_lm", "loss_copy", "lr", "elapsed_s", "quick_eval_acc"])

    train_corpus = data.Corpus("train")
    eval_corpus = data.Corpus("eval")
    print(f"stage {a.stage} theta {theta} params {num_params(model)} config {model.c.to_dict()} lengths {lengths} lr {lr_peak} "
          f"train corpus {len(train_corpus)} bytes, eval corpus {len(eval_corpus)} bytes", flush=True)

    t0 = time.time() - extra.get("wall_seconds", 0.0)
    good = 0
    cos_cache = {}
    ema = None
    step = step0
    for step in range(step0 + 1, a.steps + 1):
        rng = np.random.default_rng([a.seed, a.stage, step])
        L = draw_length(lengths, rng)
        B = max(1, a.batch_tokens // L)
        ids, _, _ = data.make_batch(train_corpus, L, B, rng, copy_spans=a.copy_spans if step <= a.copy_until else 0)
        copy_mask = torch.from_numpy(data.make_batch.last_copy_mask).to(dev)
        P = L
        ids = torch.from_numpy(ids).to(dev)
        x, y = ids[:, :-1], ids[:, 1:]
        T = x.shape[1]
        if T not in cos_cache:
            c_, s_ = rope_tables(range(T), theta, model.c.head_dim)
            cos_cache[T] = (c_.to(dev), s_.to(dev))
        cos, sin = cos_cache[T]
        lr = lr_peak * min(1.0, step / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / a.steps))))
        for g in opt.param_groups:
            g["lr"] = lr
        if step > a.synth_only:
            logits, _ = model(x, cos, sin)
            # predictions from index P-1 on are the answer sentence and EOS (PAD targets ignored)
            loss_ans = F.cross_entropy(logits[:, P - 1:].reshape(-1, logits.shape[-1]), y[:, P - 1:].reshape(-1), ignore_index=data.PAD)
            nll = F.cross_entropy(logits[:, :P - 1].reshape(-1, logits.shape[-1]), y[:, :P - 1].reshape(-1), reduction="none").view(B, P - 1)
            cm = copy_mask[:, 1:P]  # target index t+1 is a copy byte
            loss_lm = nll[~cm].mean()
            loss_copy = nll[cm].mean() if bool(cm.any()) else torch.zeros((), device=dev)
            loss = loss_ans + a.lm_weight * loss_lm + a.copy_weight * loss_copy
        else:
            loss = loss_ans = loss_lm = torch.zeros((), device=dev)
        if step <= a.synth_copy:
            sx, smask = {"half": synth_half_batch, "var": synth_var_batch, "span": synth_copy_batch}[a.synth_task](rng, a.synth_batch, a.synth_len)
            sx, smask = sx.to(dev), smask.to(dev)
            T2 = a.synth_len - 1
            if ("s", T2) not in cos_cache:
                c_, s_ = rope_tables(range(T2), theta, model.c.head_dim)
                cos_cache[("s", T2)] = (c_.to(dev), s_.to(dev))
            slog, _ = model(sx[:, :-1], *cos_cache[("s", T2)])
            snll = F.cross_entropy(slog.transpose(1, 2), sx[:, 1:], reduction="none")
            loss_copy = snll[smask[:, 1:]].mean()
            loss = loss + a.copy_weight * loss_copy
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        la, ll, lc = loss_ans.item(), loss_lm.item(), loss_copy.item()
        ema = (la, ll) if ema is None else (0.95 * ema[0] + 0.05 * la, 0.95 * ema[1] + 0.05 * ll)
        elapsed = time.time() - t0
        acc = ""
        if a.eval_every and (step % a.eval_every == 0 or step == a.steps):
            r = grid(model, theta, [a.seq_len], [0, 0.25, 0.5, 0.75, 1.0], a.eval_n, seed=999, device=dev, corpus=eval_corpus, decode=False)
            acc = r["by_length"][str(a.seq_len)]
            good = good + 1 if (a.stop_acc is not None and acc >= a.stop_acc) else 0
        w.writerow([step, L, B, f"{la:.4f}", f"{ll:.4f}", f"{lc:.4f}", f"{lr:.6g}", f"{elapsed:.1f}", acc if acc == "" else f"{acc:.3f}"])
        if step % 10 == 0 or step == step0 + 1 or step == a.steps or acc != "":
            fcsv.flush()
            print(f"step {step}/{a.steps} len {L} bs {B} loss_ans {la:.4f} (ema {ema[0]:.4f}) loss_lm {ll:.4f} (ema {ema[1]:.4f}) loss_copy {lc:.3f} lr {lr:.2e} "
                  f"{elapsed:.0f}s" + (f" quick_eval@{a.seq_len} {acc:.3f}" if acc != "" else ""), flush=True)
        stop = (a.stop_acc is not None and good >= 2) or (a.max_minutes is not None and elapsed > a.max_minutes * 60)
        if step % a.ckpt_every == 0 or step == a.steps or stop:
            extra["wall_seconds"] = elapsed
            save(ck_path, model, opt, step, a, theta, dict(extra, max_position_embeddings=max_pos))
        if stop:
            print(f"stopping at step {step}: " + ("quick eval target reached" if good >= 2 else "time limit"), flush=True)
            break
    extra["wall_seconds"] = time.time() - t0
    if out_dir:
        meta = {"producer": "tools/lab-model/train.py", "stage": a.stage, "step": step, "steps": a.steps, "seq_len": a.seq_len,
                "lengths": lengths_spec, "seed": a.seed, "init": a.init, "init_theta": extra.get("init_theta"),
                "wall_seconds": round(extra["wall_seconds"], 1)}
        lab_io.save_model_dir(out_dir, model, theta, max_pos, meta, opt_state=opt.state_dict(), step=step,
                              checkpoint_extra=dict(extra, args=vars(a)))
    else:
        save(a.out, model, opt, step, a, theta, dict(extra, max_position_embeddings=max_pos))
    fcsv.close()
    print(f"done: {step} steps, {extra['wall_seconds']:.0f} s wall, saved {a.out}", flush=True)


if __name__ == "__main__":
    lab_io.run_cli(main)
