"""ctxlab lab model: a tiny Llama-architecture byte-level language model.

Architecture (Llama in miniature):
  * byte vocabulary: ids 0-255 = UTF-8 bytes, 256 = BOS, 257 = EOS, 258 = PAD (vocab 259)
  * pre-norm decoder blocks: RMSNorm -> grouped-query attention with RoPE -> residual,
    RMSNorm -> SwiGLU MLP -> residual; final RMSNorm; LM head tied to the embedding
  * no biases anywhere

RoPE is applied with cos/sin tables that are computed OUTSIDE the model (see `rope_tables`)
and passed in, so the caller (the ctxlab engine) can use any theta or scaling rule.
Convention (Hugging Face Llama, "rotate_half", non-interleaved):
  cos/sin have shape [seq, head_dim/2]; row t is for absolute position p_t, column i is
  angle = p_t * inv_freq[i], inv_freq[i] = theta ** (-(2*i)/head_dim).
  A head vector x of size head_dim is split into halves x1 = x[:d/2], x2 = x[d/2:], and
      out1 = x1*cos - x2*sin,  out2 = x2*cos + x1*sin.
  (Identical to HF's q*cat(cos,cos) + rotate_half(q)*cat(sin,sin).)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

BOS, EOS, PAD, VOCAB = 256, 257, 258, 259


@dataclass
class Config:
    vocab_size: int = VOCAB
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    head_dim: int = 32
    intermediate_size: int = 384
    rms_eps: float = 1e-5
    tie_embeddings: bool = True

    def to_dict(self):
        return asdict(self)


def inv_freq(theta: float, head_dim: int, scaling: Optional[dict] = None) -> torch.Tensor:
    """RoPE inverse frequencies (float64), optionally with a scaling rule.

    scaling: None, {"type": "linear", "factor": f} (position interpolation), or
    {"type": "ntk", "factor": s} (theta * s^(d/(d-2))). Theta changes for dynamic NTK are
    applied by passing the new theta directly (that is what stage 2 does).
    """
    inv = 1.0 / (float(theta) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    if scaling:
        t = scaling.get("type")
        if t == "linear":
            inv = inv / float(scaling["factor"])
        elif t == "ntk":
            s = float(scaling["factor"])
            inv = 1.0 / ((float(theta) * s ** (head_dim / (head_dim - 2))) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
        else:
            raise ValueError(f"unknown scaling {t}")
    return inv


def rope_tables(positions, theta: float, head_dim: int, scaling: Optional[dict] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape [len(positions), head_dim/2], float32 (angles computed in float64)."""
    pos = torch.as_tensor(positions, dtype=torch.float64)
    ang = pos[:, None] * inv_freq(theta, head_dim, scaling)[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def ntk_dynamic_theta(theta0: float, alpha: float, L: int, L0: int, head_dim: int) -> float:
    """field-notes §2: theta' = theta0 * ((alpha*L/L0) - (alpha-1))^(d/(d-2)) (stage 2 truncates it to an integer)."""
    return theta0 * ((alpha * L / L0) - (alpha - 1)) ** (head_dim / (head_dim - 2))


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, S, D]; cos/sin [S, D/2]."""
    half = x.shape[-1] // 2
    x1 = x[..., :half]
    x2 = x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        self.q_proj = nn.Linear(c.hidden_size, c.num_heads * c.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_kv_heads * c.head_dim, bias=False)
        self.o_proj = nn.Linear(c.num_heads * c.head_dim, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        c = self.c
        B, S, _ = x.shape
        q = self.q_proj(x).view(B, S, c.num_heads, c.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, S, c.num_kv_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, S, c.num_kv_heads, c.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        present = (k, v)
        g = c.num_heads // c.num_kv_heads
        T = k.shape[2]
        # grouped-query attention: query head h uses kv head h // g
        kk = k[:, :, None].expand(B, c.num_kv_heads, g, T, c.head_dim).reshape(B, c.num_heads, T, c.head_dim)
        vv = v[:, :, None].expand(B, c.num_kv_heads, g, T, c.head_dim).reshape(B, c.num_heads, T, c.head_dim)
        att = torch.matmul(q, kk.transpose(-1, -2)) * (1.0 / math.sqrt(c.head_dim))
        att = att + mask
        att = torch.softmax(att, dim=-1)
        y = torch.matmul(att, vv)
        y = y.transpose(1, 2).reshape(B, S, c.num_heads * c.head_dim)
        return self.o_proj(y), present


class MLP(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class LabModel(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([Block(c) for _ in range(c.num_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_eps)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        if c.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, input_ids, cos, sin, past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None):
        """input_ids [B, S] int64; cos/sin [S, head_dim/2] for positions past_len..past_len+S-1;
        past: list of (key, value) [B, kv_heads, past_len, head_dim] per layer, or None.
        Returns logits [B, S, vocab] and the list of present (key, value)."""
        B, S = input_ids.shape
        x = self.embed_tokens(input_ids)
        P = past[0][0].shape[2] if past is not None else 0
        # causal mask over [past + new]: query i (absolute P+i) sees key j iff j <= P+i
        q_pos = torch.arange(S, device=input_ids.device) + P
        k_pos = torch.arange(S + P, device=input_ids.device)
        mask = (k_pos[None, :] > q_pos[:, None]).to(x.dtype) * -1e9
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, pr = layer(x, cos, sin, mask, pk, pv)
            presents.append(pr)
        x = self.norm(x)
        return self.lm_head(x), presents


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters (inputs must be created there)."""
    return next(model.parameters()).device


def load_checkpoint(path: str, device="cpu"):
    """(model on `device`, checkpoint dict) of a train.py checkpoint. The tensors are mapped to
    `device` as they are read, so a checkpoint written on a GPU loads on a CPU-only machine and
    the other way round."""
    device = torch.device(device)
    ck = torch.load(path, map_location=device)
    model = LabModel(Config(**ck["config"]))
    model.to(device)
    model.load_state_dict(ck["model"])
    return model, ck
