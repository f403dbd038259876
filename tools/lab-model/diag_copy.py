"""Diagnostic: can LabModel learn a pure synthetic copy (induction) task?

  /usr/bin/python3 diag_copy.py --steps 400 --lr 2e-3 --T 64 --batch 32 [--task span|half|var] [--prev-token-init] [--induction-init]

Task: BOS + random characters (40-symbol charset) in which one span of 8-20 characters occurs
twice; loss on the second copy from its 3rd character (chance = ln 40 = 3.69 nats).
Also checks LabModel's forward against an obviously-correct per-head reference attention and its
float32 gradients against float64 (to rule out math/BLAS problems).
"""
import argparse, math, time
import numpy as np
import torch
import torch.nn.functional as F
from model import Config, LabModel, rope_tables
from train import SYNTH_CHARSET, init_induction_circuit, init_prev_token_head, synth_copy_batch, synth_var_batch


def ref_forward(m, ids, theta):
    """Plain reference forward (loops over heads, explicit rotation by complex numbers)."""
    c = m.c
    B, S = ids.shape
    x = m.embed_tokens.weight[ids]
    pos = torch.arange(S, dtype=torch.float64)
    inv = 1.0 / (theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float64) / c.head_dim))
    rot = torch.polar(torch.ones(S, c.head_dim // 2, dtype=torch.float64), pos[:, None] * inv[None])
    def rope(v):  # v [B, S, D]; pairs (i, i+D/2) form a complex number
        h = c.head_dim // 2
        z = torch.complex(v[..., :h].double(), v[..., h:].double()) * rot
        return torch.cat([z.real, z.imag], -1).to(v.dtype)
    def rms(v, w):
        return v / torch.sqrt((v * v).mean(-1, keepdim=True) + c.rms_eps) * w
    for L in m.layers:
        a = L.self_attn
        h = rms(x, L.input_layernorm.weight)
        q = h @ a.q_proj.weight.T; k = h @ a.k_proj.weight.T; v = h @ a.v_proj.weight.T
        outs = []
        for hd in range(c.num_heads):
            kv = hd // (c.num_heads // c.num_kv_heads)
            qh = rope(q[..., hd * c.head_dim:(hd + 1) * c.head_dim])
            kh = rope(k[..., kv * c.head_dim:(kv + 1) * c.head_dim])
            vh = v[..., kv * c.head_dim:(kv + 1) * c.head_dim]
            sc = torch.einsum("bid,bjd->bij", qh, kh) / math.sqrt(c.head_dim)
            causal = torch.ones(S, S, dtype=torch.bool).tril()
            sc = sc.masked_fill(~causal, float("-inf"))
            outs.append(torch.einsum("bij,bjd->bid", sc.softmax(-1), vh))
        x = x + torch.cat(outs, -1) @ a.o_proj.weight.T
        h = rms(x, L.post_attention_layernorm.weight)
        mm = L.mlp
        x = x + (F.silu(h @ mm.gate_proj.weight.T) * (h @ mm.up_proj.weight.T)) @ mm.down_proj.weight.T
    x = rms(x, m.norm.weight)
    return x @ m.embed_tokens.weight.T


def half_batch(rng, batch, T):
    """BOS + h random chars + the same h chars again (T = 1 + 2h); mask = second copy from its 2nd char.
    (train.synth_half_batch draws a whole [batch, T] block and pads; this one draws [batch, h].)"""
    g = torch.Generator().manual_seed(int(rng.integers(2**62)))
    h = (T - 1) // 2
    r = SYNTH_CHARSET[torch.randint(len(SYNTH_CHARSET), (batch, h), generator=g)]
    x = torch.cat([torch.full((batch, 1), 256), r, r], 1)
    mask = torch.zeros_like(x, dtype=torch.bool)
    mask[:, 2 + h:] = True
    return x, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--theta", type=float, default=10000.0)
    ap.add_argument("--lm-all", action="store_true", help="loss on every position (not just the copy)")
    ap.add_argument("--task", choices=["span", "half", "var"], default="span", help="span: one 8-20 char span repeated (train.py's synth task); half: the second half repeats the first; var: one long span repeated at a random offset (train.py's --synth-task var)")
    ap.add_argument("--prev-token-init", action="store_true")
    ap.add_argument("--induction-init", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    m = LabModel(Config())
    # 1) forward vs reference
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        ids = torch.randint(0, 256, (2, 40))
        cos, sin = rope_tables(range(40), a.theta, 32)
        lg, _ = m(ids, cos, sin)
        print("forward vs reference max|diff|", (lg - ref_forward(m, ids, a.theta)).abs().max().item(), flush=True)
    m = LabModel(Config())
    # 2) gradient float32 vs float64
    m64 = LabModel(Config()).double(); m64.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
    ids = torch.randint(0, 256, (2, 40))
    cos, sin = rope_tables(range(40), a.theta, 32)
    l32 = F.cross_entropy(m(ids[:, :-1], cos[:-1], sin[:-1])[0].transpose(1, 2), ids[:, 1:]); l32.backward()
    l64 = F.cross_entropy(m64(ids[:, :-1], cos[:-1].double(), sin[:-1].double())[0].transpose(1, 2), ids[:, 1:]); l64.backward()
    worst = max(((p.grad.double() - q.grad).abs().max() / (q.grad.abs().max() + 1e-12)).item() for p, q in zip(m.parameters(), m64.parameters()))
    print("grad f32 vs f64 max relative diff", worst, flush=True)
    m.zero_grad(set_to_none=True)
    if a.induction_init:
        init_induction_circuit(m, theta=a.theta)
    if a.prev_token_init:
        init_prev_token_head(m)
    # 3) training on the copy task
    decay = [p for n, p in m.named_parameters() if p.dim() >= 2]
    nod = [p for n, p in m.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": nod, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95))
    T2 = a.T - 1
    cos, sin = rope_tables(range(T2), a.theta, 32)
    t0 = time.time(); ema = None
    for step in range(1, a.steps + 1):
        rng = np.random.default_rng([a.seed, step])
        if a.task == "span":
            sx, smask = synth_copy_batch(rng, a.batch, a.T)
        elif a.task == "var":
            sx, smask = synth_var_batch(rng, a.batch, a.T)
        else:
            sx, smask = half_batch(rng, a.batch, a.T)
        lr = a.lr * min(1.0, step / a.warmup)
        for g in opt.param_groups: g["lr"] = lr
        lg, _ = m(sx[:, :-1], cos, sin)
        nll = F.cross_entropy(lg.transpose(1, 2), sx[:, 1:], reduction="none")
        lc = nll[smask[:, 1:]].mean()
        loss = nll.mean() if a.lm_all else lc
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
        ema = lc.item() if ema is None else 0.9 * ema + 0.1 * lc.item()
        if step % 25 == 0 or step == 1:
            print(f"step {step} loss_copy {lc.item():.3f} ema {ema:.3f} {time.time()-t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
