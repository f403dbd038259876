"""LoRA extraction (truncated SVD of weight differences) and merging for the lab model.

extract: for each target linear weight (default: every q/k/v/o/gate/up/down projection),
    dW = W_model - W_base  (computed in float64)
    dW = U S V^T,  r = min(--max-rank, min(out, in))
    B = U_r diag(sqrt(S_r))   [out, r]      A = diag(sqrt(S_r)) V_r^T   [r, in]
so that dW ~ B A (the singular values are split evenly between the factors, which keeps both
factors on the same scale). lora_alpha = r for every module, so PEFT's scaling alpha/r is 1.
Parameters that are not LoRA targets but differ between the models (norm weights, the
embedding / tied LM head, non-target projections) are stored at full rank, as PEFT's and
mergekit's modules_to_save.

    /usr/bin/python3 lora.py extract --model FINETUNED --base BASE --out ADAPTER_DIR --max-rank 8

writes ADAPTER_DIR/adapter_config.json (PEFT layout + a "ctxlab" object: both models' rope_theta
and max_position_embeddings, per-module rank / rel_error / energy) and ADAPTER_DIR/adapter_model.pt
(PEFT key names, Hugging Face module paths:
    base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight   [r, in]
    base_model.model.model.layers.{i}.self_attn.q_proj.lora_B.weight   [out, r]
    base_model.model.model.norm.weight                                  full tensor, modules_to_save).
rel_error = ||dW - BA||_F / ||dW||_F (measured with the stored float32 factors);
energy = sum(S_r^2) / sum(S^2), so rel_error = sqrt(1 - energy) up to float32 rounding.

merge: W' = W + scale * (alpha/r) * B A for every LoRA module; modules_to_save replace the target's
tensors (scale does not apply to them). The output is a lab model directory whose config.json gets
the RoPE settings given on the command line: an adapter carries weight deltas only, so a
long-context adapter merged into a short-context model needs --rope-theta and
--max-position-embeddings of the long-context model, or the merged model keeps the target's
short-context configuration.

    /usr/bin/python3 lora.py merge --target BASE --lora ADAPTER_DIR --out MERGED_DIR \\
        --rope-theta 154243 --max-position-embeddings 2048 [--scale 1.0]

Models may be given in any form lab_io.load_model reads (.pt checkpoint, lab model directory, lab
.onnx). Exit status: 0 success; 1 unusable input (one line "error: ..." on stderr: missing file,
architecture mismatch, adapter that does not fit the target, ...); 2 malformed arguments.
"""
from __future__ import annotations

import math
import os
import time
from typing import Dict, List, Tuple

import torch

import lab_io
from lab_io import LINEARS, LabIOError, hf_name, lab_name

PREFIX = "base_model.model."
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.pt"
ADAPTER_FORMAT = "ctxlab-lora/1"


def svd_factors(dw: torch.Tensor, max_rank: int) -> Tuple[torch.Tensor, torch.Tensor, dict]:
    """(B [out, r], A [r, in], stats) with dW ~ B A; stats = {rank, rel_error, energy}.

    The SVD runs in float64; the factors are float32; rel_error is measured with them."""
    d = dw.detach().to(torch.float64)
    r = min(int(max_rank), min(d.shape))
    U, S, Vh = torch.linalg.svd(d, full_matrices=False)
    sq = S[:r].sqrt()
    B = (U[:, :r] * sq[None, :]).to(torch.float32).contiguous()
    A = (sq[:, None] * Vh[:r]).to(torch.float32).contiguous()
    total = float((S ** 2).sum())
    norm = float(torch.linalg.norm(d))
    if total == 0.0 or norm == 0.0:
        return B.zero_(), A.zero_(), {"rank": r, "rel_error": 0.0, "energy": 1.0}
    err = float(torch.linalg.norm(d - B.double() @ A.double())) / norm
    return B, A, {"rank": r, "rel_error": err, "energy": float((S[:r] ** 2).sum()) / total}


def _model_info(lm: lab_io.LoadedModel, given: str) -> dict:
    return {"path": given, "kind": lm.kind, "rope_theta": lm.theta, "max_position_embeddings": lm.max_position_embeddings,
            "rope_source": lm.rope_source}


def _write_atomic_torch(obj, path: str) -> None:
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def extract(model_path: str, base_path: str, out: str, max_rank: int, targets: List[str], log=print) -> dict:
    """Extract a LoRA adapter (model - base) into directory `out`; returns the adapter config."""
    t0 = time.time()
    if max_rank < 1:
        raise LabIOError(f"--max-rank must be >= 1 (got {max_rank})")
    ft = lab_io.load_model(model_path, require_rope=False)
    log(f"model: {ft.describe()}", flush=True)
    base = lab_io.load_model(base_path, require_rope=False)
    log(f"base:  {base.describe()}", flush=True)
    diff = lab_io.config_diff(ft.config, base.config, ("model", "base"))
    if diff:
        raise LabIOError(f"architectures differ between --model {model_path} and --base {base_path}: " + "; ".join(diff))
    c = ft.config
    allowed = list(LINEARS) + ([] if c.tie_embeddings else ["lm_head"])
    bad = [t for t in targets if t not in allowed]
    if bad or not targets:
        raise LabIOError(f"--targets: unknown module name(s) {bad or targets} (allowed: {','.join(allowed)})")
    for who, lm in (("model", ft), ("base", base)):
        if lm.theta is None:
            log(f"warning: the {who}'s RoPE theta is unknown; recorded as null", flush=True)

    fp = dict(ft.model.named_parameters())
    bp = dict(base.model.named_parameters())
    lora_params = [m + ".weight" for m in lab_io.linear_module_paths(c) if m.split(".")[-1] in targets and m + ".weight" in fp]
    tensors: Dict[str, torch.Tensor] = {}
    modules: Dict[str, dict] = {}
    rank_by_name: Dict[str, int] = {}
    N = len(lora_params)
    with torch.no_grad():
        for i, pname in enumerate(lora_params, 1):
            mod = hf_name(pname[: -len(".weight")])
            B, A, st = svd_factors(fp[pname].double() - bp[pname].double(), max_rank)
            tensors[f"{PREFIX}{mod}.lora_A.weight"] = A
            tensors[f"{PREFIX}{mod}.lora_B.weight"] = B
            st["shape"] = list(fp[pname].shape)
            modules[mod] = st
            rank_by_name[mod.split(".")[-1]] = st["rank"]
            log(f"module {i}/{N} {mod} rank {st['rank']} rel_error {st['rel_error']:.6f} energy {st['energy']:.6f}", flush=True)
        lora_set = set(lora_params)
        saved = [n for n, p in fp.items() if n not in lora_set and not torch.equal(p, bp[n])]
        saved_info: Dict[str, dict] = {}
        for j, pname in enumerate(saved, 1):
            hf = hf_name(pname)
            tensors[PREFIX + hf] = fp[pname].detach().clone().contiguous()
            mad = float((fp[pname] - bp[pname]).abs().max())
            saved_info[hf[: -len(".weight")]] = {"shape": list(fp[pname].shape), "max_abs_diff": mad}
            log(f"module_to_save {j}/{len(saved)} {hf[: -len('.weight')]} shape {list(fp[pname].shape)} max_abs_diff {mad:.6g}", flush=True)

    n_params = sum(t.numel() for t in tensors.values())
    n_bytes = sum(t.numel() * t.element_size() for t in tensors.values())
    errs = [m["rel_error"] for m in modules.values()]
    r_top = max(rank_by_name.values()) if rank_by_name else int(max_rank)
    pattern = {k: v for k, v in rank_by_name.items() if v != r_top}
    hf_arch = lab_io.hf_config(c, None, None)
    arch = {hf: hf_arch[hf] for hf, _ in lab_io.HF_FIELDS}
    cfg = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_path,
        "r": r_top,
        "lora_alpha": r_top,
        "rank_pattern": pattern,
        "alpha_pattern": dict(pattern),
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": False,
        "use_rslora": False,
        "init_lora_weights": True,
        "inference_mode": True,
        "target_modules": [t for t in LINEARS + ("lm_head",) if t in rank_by_name],
        "modules_to_save": list(saved_info) or None,
        "ctxlab": {
            "format": ADAPTER_FORMAT,
            "producer": "tools/lab-model/lora.py extract",
            "method": "truncated SVD of W_model - W_base (float64)",
            "factorization": "B = U_r diag(sqrt(S_r)) [out, r], A = diag(sqrt(S_r)) V_r^T [r, in]; lora_alpha = r (scaling 1)",
            "max_rank": int(max_rank),
            "model": _model_info(ft, model_path),
            "base": _model_info(base, base_path),
            "rope_theta": ft.theta,
            "max_position_embeddings": ft.max_position_embeddings,
            "architecture": arch,
            "modules": modules,
            "modules_to_save": saved_info,
            "summary": {
                "lora_modules": len(modules),
                "saved_modules": len(saved_info),
                "adapter_parameters": n_params,
                "adapter_bytes": n_bytes,
                "mean_rel_error": (sum(errs) / len(errs)) if errs else 0.0,
                "max_rel_error": max(errs) if errs else 0.0,
            },
        },
    }
    s = cfg["ctxlab"]["summary"]
    log(f"summary: lora_modules {s['lora_modules']} saved_modules {s['saved_modules']} adapter_parameters {n_params} "
        f"adapter_bytes {n_bytes} mean_rel_error {s['mean_rel_error']:.6f} max_rel_error {s['max_rel_error']:.6f}", flush=True)
    if not saved and all(torch.equal(fp[n], bp[n]) for n in lora_params):
        log("note: the two models have identical weights; the adapter is zero", flush=True)
    if os.path.exists(out) and not os.path.isdir(out):
        raise LabIOError(f"--out {out}: exists and is not a directory")
    os.makedirs(out, exist_ok=True)
    cfg_path = os.path.join(out, ADAPTER_CONFIG)
    if os.path.exists(cfg_path):
        os.remove(cfg_path)  # written last: its presence marks a complete adapter
    _write_atomic_torch(tensors, os.path.join(out, ADAPTER_WEIGHTS))
    lab_io.write_json_atomic(cfg_path, cfg)
    log(f"done: wrote {cfg_path} and {os.path.join(out, ADAPTER_WEIGHTS)} "
        f"({os.path.getsize(os.path.join(out, ADAPTER_WEIGHTS))} bytes) in {time.time() - t0:.1f} s", flush=True)
    return cfg


def read_adapter(path: str) -> Tuple[dict, Dict[str, torch.Tensor]]:
    """(adapter_config, tensors) of an adapter directory."""
    if not os.path.exists(path):
        raise LabIOError(f"no such file or directory: {path}")
    if not os.path.isdir(path):
        raise LabIOError(f"--lora {path}: not a directory (expected {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS} in it)")
    cfg = lab_io.read_json(os.path.join(path, ADAPTER_CONFIG))
    if cfg.get("peft_type") != "LORA":
        raise LabIOError(f"{path}/{ADAPTER_CONFIG}: peft_type {cfg.get('peft_type')!r}, expected 'LORA'")
    wpath = os.path.join(path, ADAPTER_WEIGHTS)
    if not os.path.isfile(wpath):
        raise LabIOError(f"no such file: {wpath}")
    try:
        sd = torch.load(wpath, map_location="cpu")
    except Exception as e:
        raise LabIOError(f"cannot read {wpath}: {type(e).__name__}: {e}") from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise LabIOError(f"{wpath}: expected a dict of tensors")
    return cfg, sd


def merge(target_path: str, lora_dir: str, out: str, rope_theta: float, max_pos: int, scale: float = 1.0, log=print) -> dict:
    """Merge adapter `lora_dir` into `target_path`, write lab model directory `out` with the given
    RoPE settings; returns the merged config.json."""
    t0 = time.time()
    if not math.isfinite(rope_theta) or rope_theta <= 0:
        raise LabIOError(f"--rope-theta must be a positive number (got {rope_theta})")
    if max_pos < 1:
        raise LabIOError(f"--max-position-embeddings must be >= 1 (got {max_pos})")
    if not math.isfinite(scale):
        raise LabIOError(f"--scale must be finite (got {scale})")
    for what, p in (("--target", target_path), ("--lora", lora_dir)):
        if os.path.exists(out) and os.path.exists(p) and os.path.samefile(out, p):
            raise LabIOError(f"--out {out} is the same as {what}; choose a new directory")
    cfg, sd = read_adapter(lora_dir)
    tgt = lab_io.load_model(target_path, require_rope=False)
    log(f"target: {tgt.describe()}", flush=True)
    c = tgt.config
    arch = (cfg.get("ctxlab") or {}).get("architecture")
    if arch:
        want = lab_io.hf_config(c, None, None)
        diff = [f"{k} {arch[k]} (adapter) vs {want[k]} (target)" for k in arch if k in want and arch[k] != want[k]]
        if diff:
            raise LabIOError(f"the adapter {lora_dir} was extracted for a different architecture than --target {target_path}: " + "; ".join(diff))
    params = dict(tgt.model.named_parameters())
    lora: Dict[str, Dict[str, torch.Tensor]] = {}
    saved: Dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if not k.startswith(PREFIX):
            raise LabIOError(f"{lora_dir}/{ADAPTER_WEIGHTS}: key {k!r} does not start with {PREFIX!r}")
        rest = k[len(PREFIX):]
        for part in ("lora_A", "lora_B"):
            suf = f".{part}.weight"
            if rest.endswith(suf):
                lora.setdefault(rest[: -len(suf)], {})[part] = v
                break
        else:
            saved[rest] = v
    alpha0, r0 = cfg.get("lora_alpha"), cfg.get("r")
    alpha_pattern = cfg.get("alpha_pattern") or {}
    rslora = bool(cfg.get("use_rslora"))
    plan = []
    for mod, f in lora.items():
        if set(f) != {"lora_A", "lora_B"}:
            raise LabIOError(f"{lora_dir}: module {mod} has {sorted(f)} but needs both lora_A and lora_B")
        try:
            pname = lab_name(mod) + ".weight"
        except LabIOError:
            pname = None
        if pname not in params or params[pname].dim() != 2 or pname == "embed_tokens.weight":
            raise LabIOError(f"adapter module {mod} is not a linear layer of --target {target_path}")
        W, A, B = params[pname], f["lora_A"], f["lora_B"]
        if A.dim() != 2 or B.dim() != 2 or A.shape[0] != B.shape[1] or B.shape[0] != W.shape[0] or A.shape[1] != W.shape[1]:
            raise LabIOError(f"adapter module {mod}: lora_B {list(B.shape)} x lora_A {list(A.shape)} does not fit "
                             f"the target's weight {list(W.shape)} ([out, in])")
        r = A.shape[0]
        alpha = alpha_pattern.get(mod.split(".")[-1], alpha_pattern.get(mod, alpha0 if alpha0 is not None else r))
        s_m = float(alpha) / (math.sqrt(r) if rslora else r)
        plan.append((mod, pname, A, B, s_m))
    for hf, v in saved.items():
        try:
            pname = lab_name(hf)
        except LabIOError:
            pname = None
        if pname not in params:
            raise LabIOError(f"adapter tensor {hf} is not a parameter of --target {target_path}")
        if tuple(v.shape) != tuple(params[pname].shape):
            raise LabIOError(f"adapter tensor {hf} has shape {list(v.shape)}, the target's is {list(params[pname].shape)}")
    if not plan and not saved:
        raise LabIOError(f"{lora_dir}/{ADAPTER_WEIGHTS}: no LoRA modules and no saved modules")
    with torch.no_grad():
        for i, (mod, pname, A, B, s_m) in enumerate(plan, 1):
            W = params[pname]
            W.copy_((W.double() + (scale * s_m) * (B.double() @ A.double())).to(W.dtype))
            log(f"module {i}/{len(plan)} {mod} rank {A.shape[0]} scale {scale * s_m:g}", flush=True)
        for j, (hf, v) in enumerate(saved.items(), 1):
            params[lab_name(hf)].copy_(v.to(params[lab_name(hf)].dtype))
            log(f"module_to_save {j}/{len(saved)} {hf[: -len('.weight')] if hf.endswith('.weight') else hf} replaced, shape {list(v.shape)}", flush=True)
    src = (cfg.get("ctxlab") or {})
    log(f"patched rope_theta: {tgt.theta} (target) -> {float(rope_theta)}", flush=True)
    log(f"patched max_position_embeddings: {tgt.max_position_embeddings} (target) -> {int(max_pos)}", flush=True)
    ft_theta, ft_mp = src.get("rope_theta"), src.get("max_position_embeddings")
    if ft_theta is not None and float(ft_theta) != float(rope_theta):
        log(f"note: the adapter was extracted from a model with rope_theta {ft_theta}; merged model gets {float(rope_theta)}", flush=True)
    if ft_mp is not None and int(ft_mp) != int(max_pos):
        log(f"note: the adapter was extracted from a model with max_position_embeddings {ft_mp}; merged model gets {int(max_pos)}", flush=True)
    meta = {
        "producer": "tools/lab-model/lora.py merge",
        "target": target_path,
        "lora": lora_dir,
        "scale": scale,
        "target_rope_theta": tgt.theta,
        "target_max_position_embeddings": tgt.max_position_embeddings,
        "adapter_rope_theta": ft_theta,
        "adapter_max_position_embeddings": ft_mp,
        "lora_modules": len(plan),
        "saved_modules": len(saved),
    }
    files = lab_io.save_model_dir(out, tgt.model, rope_theta, max_pos, meta)
    log(f"done: wrote {out} ({', '.join(os.path.basename(f) for f in files.values())}), rope_theta {float(rope_theta)}, "
        f"max_position_embeddings {int(max_pos)} in {time.time() - t0:.1f} s", flush=True)
    return lab_io.read_json(files["config"])


def main():
    ap = lab_io.OneLineParser(prog="lora.py", description="SVD LoRA extraction and merging for the lab model.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{extract,merge}", parser_class=lab_io.OneLineParser)
    e = sub.add_parser("extract", help="extract a LoRA adapter: model - base, truncated SVD per target module")
    e.add_argument("--model", required=True, help="the fine-tuned model (.pt, lab model directory or lab .onnx)")
    e.add_argument("--base", required=True, help="the model it was fine-tuned from")
    e.add_argument("--out", required=True, help="adapter directory to write")
    e.add_argument("--max-rank", type=int, required=True, help="rank per module (capped at min(out, in))")
    e.add_argument("--targets", default=",".join(LINEARS), help="comma-separated module names (default: all projections)")
    e.add_argument("--threads", type=int, default=1)
    m = sub.add_parser("merge", help="merge an adapter into a model and write a lab model directory")
    m.add_argument("--target", required=True, help="model to merge into (.pt, lab model directory or lab .onnx)")
    m.add_argument("--lora", required=True, help="adapter directory (adapter_config.json + adapter_model.pt)")
    m.add_argument("--out", required=True, help="lab model directory to write")
    m.add_argument("--rope-theta", type=float, required=True, help="rope_theta of the merged model's config.json")
    m.add_argument("--max-position-embeddings", type=int, required=True, help="max_position_embeddings of the merged model")
    m.add_argument("--scale", type=float, default=1.0, help="multiplier of the LoRA deltas (default 1.0)")
    m.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.threads < 1:
        ap.error("--threads must be >= 1")
    if a.cmd == "extract":
        if a.max_rank < 1:
            ap.error(f"--max-rank must be >= 1 (got {a.max_rank})")
        targets = [t.strip() for t in a.targets.split(",") if t.strip()]
        if not targets:
            ap.error("--targets is empty")
    else:
        if not math.isfinite(a.rope_theta) or a.rope_theta <= 0:
            ap.error(f"--rope-theta must be a positive number (got {a.rope_theta})")
        if a.max_position_embeddings < 1:
            ap.error(f"--max-position-embeddings must be >= 1 (got {a.max_position_embeddings})")
        if not math.isfinite(a.scale):
            ap.error(f"--scale must be finite (got {a.scale})")
    torch.set_num_threads(a.threads)
    if a.cmd == "extract":
        extract(a.model, a.base, a.out, a.max_rank, targets)
    else:
        merge(a.target, a.lora, a.out, a.rope_theta, a.max_position_embeddings, a.scale)
    return 0


if __name__ == "__main__":
    lab_io.run_cli(main)
