"""Weight I/O for the lab model: checkpoints, exported ONNX graphs and lab model directories.

A *lab model directory* holds three files:

  model.onnx   the exported graph (export_onnx.export: opset 14, KV cache, cos/sin as inputs)
  model.pt     a checkpoint in train.py's format: {"model": state_dict, "config": Config.to_dict(),
               "theta", "max_position_embeddings", "step", "opt" (optional), ...}
  config.json  Hugging-Face-style Llama config (architectures ["LlamaForCausalLM"], model_type
               "llama", hidden_size, num_hidden_layers, ..., rope_theta, max_position_embeddings)
               plus a "ctxlab" object with everything else (format, producer, provenance)

RoPE is not part of the graph (cos/sin are graph inputs), so a model's theta and context length
live beside the weights: in config.json (directory), in the checkpoint ("theta"), or, for a bare
.onnx file, in a config.json next to it or in libs/inference/models/lab-model.json (the stage
entry whose "file" is the graph's basename).

`load_model(path)` reads any of the three forms: a train.py .pt checkpoint, a lab model
directory, or a bare lab .onnx graph. For a graph, the weights come from its initializers:
  model.embed_tokens.weight, model.norm.weight, model.layers.{i}.{input,post_attention}_layernorm.weight
      by name;
  every linear weight as an anonymous "onnx::MatMul_N" initializer holding W^T ([in, out]),
      identified by the MatMul node that consumes it (/model/layers.{i}/self_attn/q_proj/MatMul,
      ..., /model/lm_head/MatMul); when node names are missing, by the deterministic initializer
      order of torch.onnx.export: per layer q, k, v, o, gate, up, down, then the LM head (which,
      for tied embeddings, equals model.embed_tokens.weight^T).
head_dim and num_key_value_heads come from the graph inputs (cos [seq, head_dim/2],
past_key_values.0.key [batch, kv_heads, past_len, head_dim]), the RMSNorm epsilon from the graph's
constant. Every shape is checked; a graph that is not a lab model is refused with a message.

`save_model_dir(...)` writes a directory (temporary names, then renames; config.json last, so
its presence marks a complete directory).

CLI (one thread):
  /usr/bin/python3 lab_io.py info PATH
  /usr/bin/python3 lab_io.py convert --src PATH --out DIR [--rope-theta X] [--max-position-embeddings N]
Exit status 0 on success, 1 with a one-line "error: ..." on stderr when an input is unusable,
2 for malformed arguments.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from model import BOS, EOS, PAD, Config, LabModel, num_params

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SHIPPED_CARD = os.path.join(ROOT, "libs", "inference", "models", "lab-model.json")

MODEL_ONNX, MODEL_PT, CONFIG_JSON = "model.onnx", "model.pt", "config.json"
DIR_FORMAT = "ctxlab-lab-model/1"

ATTN = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")
LINEARS = ATTN + MLP  # per layer, in model.py's parameter order (= the ONNX initializer order)

# config.json field <-> model.Config field
HF_FIELDS = [
    ("hidden_size", "hidden_size"),
    ("num_hidden_layers", "num_layers"),
    ("num_attention_heads", "num_heads"),
    ("num_key_value_heads", "num_kv_heads"),
    ("head_dim", "head_dim"),
    ("intermediate_size", "intermediate_size"),
    ("vocab_size", "vocab_size"),
    ("rms_norm_eps", "rms_eps"),
    ("tie_word_embeddings", "tie_embeddings"),
]


class LabIOError(Exception):
    """An input that cannot be used (missing file, not a lab model, shape mismatch, ...).
    The message is one line and names the file or argument at fault."""


# --------------------------------------------------------------------------------------------
# names


def linear_module_paths(c: Config) -> List[str]:
    """LabModel module paths of every linear layer, in parameter order (lm_head last)."""
    out = []
    for i in range(c.num_layers):
        out += [f"layers.{i}.self_attn.{n}" for n in ATTN]
        out += [f"layers.{i}.mlp.{n}" for n in MLP]
    return out + ["lm_head"]


def hf_name(lab_name: str) -> str:
    """LabModel parameter/module name -> Hugging Face Llama name (also the ONNX initializer name):
    'layers.0.self_attn.q_proj.weight' -> 'model.layers.0.self_attn.q_proj.weight'; lm_head stays."""
    return lab_name if lab_name.split(".")[0] == "lm_head" else "model." + lab_name


def lab_name(hf: str) -> str:
    """Inverse of hf_name."""
    if hf.split(".")[0] == "lm_head":
        return hf
    if not hf.startswith("model."):
        raise LabIOError(f"not a Llama module name: {hf!r}")
    return hf[len("model."):]


def config_diff(a: Config, b: Config, names=("model", "base")) -> List[str]:
    """Human-readable differences between two architectures ([] when equal)."""
    da, db = a.to_dict(), b.to_dict()
    out = []
    for hf, k in HF_FIELDS:
        if da[k] != db[k]:
            out.append(f"{hf} {da[k]} ({names[0]}) vs {db[k]} ({names[1]})")
    return out


# --------------------------------------------------------------------------------------------
# config.json


def hf_config(c: Config, theta: Optional[float], max_pos: Optional[int], extra_meta: Optional[dict] = None) -> Dict[str, Any]:
    """The config.json of a lab model directory."""
    d = c.to_dict()
    cfg: Dict[str, Any] = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    for hf, k in HF_FIELDS:
        cfg[hf] = d[k]
    cfg.update({
        "hidden_act": "silu",
        "attention_bias": False,
        "rope_theta": None if theta is None else float(theta),
        "rope_scaling": None,
        "max_position_embeddings": None if max_pos is None else int(max_pos),
        "torch_dtype": "float32",
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "pad_token_id": PAD,
    })
    meta = {"format": DIR_FORMAT, "files": {"graph": MODEL_ONNX, "checkpoint": MODEL_PT}}
    meta.update(extra_meta or {})
    cfg["ctxlab"] = meta
    return cfg


def config_from_hf(cfg: dict, where: str) -> Config:
    """model.Config from a config.json dict; refuses anything that is not a lab Llama."""
    arch = cfg.get("architectures") or []
    if cfg.get("model_type") != "llama" or "LlamaForCausalLM" not in arch:
        raise LabIOError(f"{where}: not a Llama config (model_type {cfg.get('model_type')!r}, architectures {arch})")
    if cfg.get("rope_scaling") not in (None, {}):
        raise LabIOError(f"{where}: rope_scaling {cfg['rope_scaling']!r} is not supported by the lab model (null expected)")
    kw = {}
    for hf, k in HF_FIELDS:
        if hf not in cfg:
            if hf == "head_dim" and "hidden_size" in cfg and "num_attention_heads" in cfg:
                kw[k] = cfg["hidden_size"] // cfg["num_attention_heads"]
                continue
            raise LabIOError(f"{where}: missing field {hf!r}")
        kw[k] = cfg[hf]
    try:
        c = Config(**kw)
        c.rms_eps = float(c.rms_eps)
        for k in ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim", "intermediate_size", "vocab_size"):
            v = getattr(c, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{k} = {v!r}")
        if c.num_heads % c.num_kv_heads:
            raise ValueError(f"num_attention_heads {c.num_heads} is not a multiple of num_key_value_heads {c.num_kv_heads}")
        if c.head_dim % 2:
            raise ValueError(f"head_dim {c.head_dim} is odd")
    except (TypeError, ValueError) as e:
        raise LabIOError(f"{where}: bad architecture field: {e}") from None
    return c


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except FileNotFoundError:
        raise LabIOError(f"no such file: {path}") from None
    except (OSError, ValueError) as e:
        raise LabIOError(f"cannot read {path}: {e}") from None
    if not isinstance(d, dict):
        raise LabIOError(f"{path}: expected a JSON object")
    return d


def write_json_atomic(path: str, obj) -> None:
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# devices


def resolve_device(name) -> torch.device:
    """The torch.device of a --device argument (cpu, cuda, cuda:N, ...); LabIOError when the name
    is malformed or names a CUDA device this machine does not have."""
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError, ValueError):
        raise LabIOError(f"--device {name!r}: not a device name (cpu, cuda or cuda:N)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = "this PyTorch is built without CUDA" if torch.version.cuda is None else "no CUDA device is visible"
            raise LabIOError(f"--device {name}: CUDA is not available ({why}; torch {torch.__version__})")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise LabIOError(f"--device {name}: there are {torch.cuda.device_count()} CUDA devices")
    return dev


def cpu_tensors(obj, _seen: Optional[dict] = None):
    """obj (a tensor, or dicts / lists / tuples holding tensors) with every tensor on the CPU, so
    that a checkpoint written on a GPU loads anywhere, even without map_location. Tensors already
    on the CPU are kept; a tensor that occurs twice (the tied embedding) is copied once."""
    seen = {} if _seen is None else _seen
    if isinstance(obj, torch.Tensor):
        if obj.device.type == "cpu":
            return obj
        key = (str(obj.device), obj.data_ptr(), tuple(obj.shape), obj.stride(), obj.dtype)  # same memory, same view
        if key not in seen:
            seen[key] = obj.detach().cpu()
        return seen[key]
    if isinstance(obj, dict):
        return type(obj)((k, cpu_tensors(v, seen)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(cpu_tensors(v, seen) for v in obj)
    return obj


# --------------------------------------------------------------------------------------------
# loading


@dataclass
class LoadedModel:
    """What load_model returns. Unpacks as (model, config, theta, max_position_embeddings)."""
    model: LabModel
    config: Config
    theta: Optional[float]
    max_position_embeddings: Optional[int]
    kind: str  # "checkpoint" | "directory" | "onnx"
    path: str
    rope_source: str = ""  # where theta / max positions came from
    checkpoint: Optional[dict] = field(default=None, repr=False)  # the raw checkpoint, when one was read
    meta: dict = field(default_factory=dict)  # config.json's "ctxlab" object, when there is one

    def __iter__(self):
        return iter((self.model, self.config, self.theta, self.max_position_embeddings))

    def describe(self) -> str:
        c = self.config
        return (f"{self.kind} {self.path}: {c.num_layers} layers, hidden {c.hidden_size}, heads {c.num_heads}/{c.num_kv_heads}, "
                f"head_dim {c.head_dim}, intermediate {c.intermediate_size}, vocab {c.vocab_size}, {num_params(self.model)} params, "
                f"rope_theta {self.theta}, max_position_embeddings {self.max_position_embeddings} ({self.rope_source})")


def _checkpoint_max_pos(ck: dict) -> Optional[int]:
    """max_position_embeddings of a train.py checkpoint: stored, or the longest prompt it trained at."""
    if ck.get("max_position_embeddings"):
        return int(ck["max_position_embeddings"])
    args = ck.get("args") or {}
    if not args.get("seq_len"):
        return None
    L = int(args["seq_len"])
    if args.get("lengths"):
        try:
            for part in str(args["lengths"]).split(","):
                L = max(L, max(int(x) for x in part.split(":")[0].split("-")))
        except ValueError:
            pass
    return L


def _load_checkpoint_file(path: str) -> Tuple[LabModel, Config, dict]:
    try:
        ck = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        raise LabIOError(f"no such file: {path}") from None
    except Exception as e:  # pickle/zip errors come in many types
        raise LabIOError(f"cannot read {path} as a checkpoint (models are a .pt checkpoint, a lab model directory or a lab .onnx): "
                         f"{type(e).__name__}: {e}") from None
    if not isinstance(ck, dict) or "model" not in ck or "config" not in ck:
        raise LabIOError(f"{path}: not a lab-model checkpoint (expected a dict with 'model' and 'config')")
    try:
        c = Config(**ck["config"])
    except TypeError as e:
        raise LabIOError(f"{path}: bad 'config': {e}") from None
    model = LabModel(c)
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise LabIOError(f"{path}: weights do not fit its config: {' '.join(x.strip() for x in first[:3])}") from None
    return model, c, ck


def _onnx_weights(path: str):
    """(initializers {name: np.ndarray}, graph) of an ONNX file."""
    import onnx
    from onnx import numpy_helper
    try:
        m = onnx.load(path)
    except FileNotFoundError:
        raise LabIOError(f"no such file: {path}") from None
    except Exception as e:
        raise LabIOError(f"cannot read ONNX file {path}: {type(e).__name__}: {e}") from None
    inits = {}
    for t in m.graph.initializer:
        try:
            inits[t.name] = numpy_helper.to_array(t)
        except Exception as e:
            raise LabIOError(f"{path}: cannot read initializer {t.name!r}: {e}") from None
    return inits, m.graph


def _graph_dims(graph, name) -> Optional[list]:
    for i in graph.input:
        if i.name == name:
            return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in i.type.tensor_type.shape.dim]
    return None


def _graph_eps(graph, inits) -> Optional[float]:
    """The RMSNorm epsilon: the constant added in /model/norm/Add (float32 in the graph)."""
    from onnx import numpy_helper
    consts = {}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    for n in graph.node:
        if n.op_type == "Add" and n.name == "/model/norm/Add":
            for x in n.input:
                v = consts.get(x, inits.get(x))
                if v is not None and np.size(v) == 1:
                    return float(str(np.float32(np.asarray(v).reshape(()))))  # 9.99999974e-06 -> 1e-05
    return None


_MATMUL_NODE = re.compile(r"^/model/(?:(layers\.\d+)/(self_attn|mlp)/(\w+)|(lm_head))/MatMul$")


def state_dict_from_onnx(path: str, sidecar_config: Optional[Config] = None) -> Tuple[Config, Dict[str, torch.Tensor]]:
    """(Config, LabModel state_dict) from a lab ONNX graph; LabIOError if it is not one."""
    inits, graph = _onnx_weights(path)
    in_names = [i.name for i in graph.input]
    for need in ("input_ids", "cos", "sin"):
        if need not in in_names:
            raise LabIOError(f"{path}: not a lab model graph (no input {need!r}; inputs {in_names[:6]})")
    if "logits" not in [o.name for o in graph.output]:
        raise LabIOError(f"{path}: not a lab model graph (no output 'logits')")
    emb = inits.get("model.embed_tokens.weight")
    if emb is None or emb.ndim != 2:
        raise LabIOError(f"{path}: not a lab model graph (no 2-D initializer 'model.embed_tokens.weight')")
    V, H = emb.shape
    L = 0
    while f"model.layers.{L}.input_layernorm.weight" in inits:
        L += 1
    if L == 0:
        raise LabIOError(f"{path}: not a lab model graph (no 'model.layers.0.input_layernorm.weight')")

    # linear weights: by consuming MatMul node, else by initializer order
    named = {f"model.layers.{i}.{'self_attn' if n in ATTN else 'mlp'}.{n}" for i in range(L) for n in LINEARS} | {"lm_head"}
    by_node: Dict[str, str] = {}
    for n in graph.node:
        if n.op_type != "MatMul" or len(n.input) != 2 or n.input[1] not in inits:
            continue
        mt = _MATMUL_NODE.match(n.name)
        if mt:
            mod = "lm_head" if mt.group(4) else f"model.{mt.group(1)}.{mt.group(2)}.{mt.group(3)}"
            if mod in named:
                by_node[mod] = n.input[1]
    order = [f"model.layers.{i}.{'self_attn' if n in ATTN else 'mlp'}.{n}" for i in range(L) for n in LINEARS] + ["lm_head"]
    if len(by_node) == len(order):
        linear = {m: by_node[m] for m in order}
        how = "node names"
    else:
        anon = [k for k in inits if not k.startswith("model.")]
        if len(anon) != len(order):
            raise LabIOError(f"{path}: not a lab model graph: {len(anon)} unnamed weight initializers, "
                             f"expected {len(order)} ({L} layers x 7 linear + LM head)")
        linear = dict(zip(order, anon))
        how = "initializer order"

    w = {m: inits[n] for m, n in linear.items()}
    q, k, gate = w["model.layers.0.self_attn.q_proj"], w["model.layers.0.self_attn.k_proj"], w["model.layers.0.mlp.gate_proj"]
    if q.ndim != 2 or k.ndim != 2 or gate.ndim != 2:
        raise LabIOError(f"{path}: not a lab model graph (layer-0 projections are not matrices)")
    inter = gate.shape[1]
    cos_dims, kv_dims = _graph_dims(graph, "cos"), _graph_dims(graph, "past_key_values.0.key")
    D = None
    if cos_dims and len(cos_dims) == 2 and isinstance(cos_dims[1], int) and cos_dims[1] > 0:
        D = 2 * cos_dims[1]
    elif kv_dims and len(kv_dims) == 4 and isinstance(kv_dims[3], int) and kv_dims[3] > 0:
        D = kv_dims[3]
    elif sidecar_config is not None:
        D = sidecar_config.head_dim
    if not D:
        raise LabIOError(f"{path}: cannot tell head_dim (input 'cos' has no static width and there is no config.json)")
    if q.shape[1] % D or k.shape[1] % D:
        raise LabIOError(f"{path}: q/k projection widths {q.shape[1]}/{k.shape[1]} are not multiples of head_dim {D}")
    nH, nKV = q.shape[1] // D, k.shape[1] // D
    if kv_dims and len(kv_dims) == 4 and isinstance(kv_dims[1], int) and kv_dims[1] > 0 and kv_dims[1] != nKV:
        raise LabIOError(f"{path}: past_key_values.0.key has {kv_dims[1]} heads but k_proj gives {nKV}")
    lm = w["lm_head"]
    tied = lm.shape == (H, V) and np.array_equal(lm.T, emb)
    eps = _graph_eps(graph, inits)
    if eps is None:
        eps = sidecar_config.rms_eps if sidecar_config is not None else 1e-5
    c = Config(vocab_size=V, hidden_size=H, num_layers=L, num_heads=nH, num_kv_heads=nKV, head_dim=D,
               intermediate_size=inter, rms_eps=eps, tie_embeddings=tied)

    # expected [in, out] shapes of every transposed linear weight
    exp = {}
    for i in range(L):
        p = f"model.layers.{i}."
        exp[p + "self_attn.q_proj"] = (H, nH * D)
        exp[p + "self_attn.k_proj"] = (H, nKV * D)
        exp[p + "self_attn.v_proj"] = (H, nKV * D)
        exp[p + "self_attn.o_proj"] = (nH * D, H)
        exp[p + "mlp.gate_proj"] = (H, inter)
        exp[p + "mlp.up_proj"] = (H, inter)
        exp[p + "mlp.down_proj"] = (inter, H)
    exp["lm_head"] = (H, V)
    sd: Dict[str, torch.Tensor] = {"embed_tokens.weight": torch.from_numpy(emb.astype(np.float32, copy=True))}
    for m, shape in exp.items():
        a = w[m]
        if tuple(a.shape) != shape:
            raise LabIOError(f"{path}: {m} ({linear[m]}, mapped by {how}) has shape {list(a.shape)}, expected {list(shape)} "
                             f"([in, out]); not a lab model graph of this architecture")
        sd[lab_name(m) + ".weight"] = torch.from_numpy(np.ascontiguousarray(a.T).astype(np.float32, copy=True))
    norms = ["norm.weight"] + [f"layers.{i}.{n}.weight" for i in range(L) for n in ("input_layernorm", "post_attention_layernorm")]
    for n in norms:
        a = inits.get("model." + n)
        if a is None:
            raise LabIOError(f"{path}: missing initializer 'model.{n}'")
        if tuple(a.shape) != (H,):
            raise LabIOError(f"{path}: 'model.{n}' has shape {list(a.shape)}, expected [{H}]")
        sd[n] = torch.from_numpy(a.astype(np.float32, copy=True))
    if tied:
        sd["lm_head.weight"] = sd["embed_tokens.weight"]
    if sidecar_config is not None:
        diff = config_diff(c, sidecar_config, ("graph", "config.json"))
        diff = [d for d in diff if not d.startswith("rms_norm_eps")]  # float32 rounding in the graph
        if diff:
            raise LabIOError(f"{path}: the graph does not match its config.json: " + "; ".join(diff))
    return c, sd


def _shipped_rope(onnx_path: str) -> Optional[Tuple[float, int, str]]:
    """(theta, max_positions, source) from a lab-model.json stage entry whose file is the basename."""
    base = os.path.basename(onnx_path)
    for card in (os.path.join(os.path.dirname(os.path.abspath(onnx_path)), "lab-model.json"), SHIPPED_CARD):
        if not os.path.isfile(card):
            continue
        try:
            d = read_json(card)
        except LabIOError:
            continue
        for st in d.get("stages") or []:
            if isinstance(st, dict) and st.get("file") == base and st.get("ropeTheta") is not None:
                return float(st["ropeTheta"]), (int(st["maxPositionEmbeddings"]) if st.get("maxPositionEmbeddings") else None), \
                    f"{os.path.relpath(card, ROOT) if card.startswith(ROOT) else card} stage {st.get('stage')}"
    return None


def load_model(path: str, theta: Optional[float] = None, max_position_embeddings: Optional[int] = None,
               require_rope: bool = True) -> LoadedModel:
    """Load a lab model from a train.py .pt checkpoint, a lab model directory or a bare lab .onnx.

    theta / max_position_embeddings, when given, override what the files say (and are required
    for a bare .onnx that has neither a config.json next to it nor an entry in lab-model.json,
    unless require_rope is False, in which case they may come back as None)."""
    if not path:
        raise LabIOError("no model path given")
    if not os.path.exists(path):
        raise LabIOError(f"no such file or directory: {path}")
    ck = None
    meta: dict = {}
    if os.path.isdir(path):
        kind = "directory"
        cfg_path, pt_path, onnx_path = (os.path.join(path, n) for n in (CONFIG_JSON, MODEL_PT, MODEL_ONNX))
        hf = read_json(cfg_path) if os.path.isfile(cfg_path) else None
        hc = config_from_hf(hf, cfg_path) if hf is not None else None
        meta = dict((hf or {}).get("ctxlab") or {})
        if os.path.isfile(pt_path):
            model, c, ck = _load_checkpoint_file(pt_path)
            if hc is not None:
                diff = config_diff(c, hc, ("model.pt", "config.json"))
                if diff:
                    raise LabIOError(f"{path}: model.pt and config.json disagree: " + "; ".join(diff))
        elif os.path.isfile(onnx_path):
            c, sd = state_dict_from_onnx(onnx_path, hc)
            model = LabModel(c)
            model.load_state_dict(sd)
        else:
            raise LabIOError(f"{path}: not a lab model directory (neither {MODEL_PT} nor {MODEL_ONNX} in it)")
        if hf is not None:
            t, mp, src = hf.get("rope_theta"), hf.get("max_position_embeddings"), cfg_path
        else:
            t, mp, src = ck.get("theta"), _checkpoint_max_pos(ck), pt_path
    elif path.endswith(".onnx"):
        kind = "onnx"
        side = os.path.join(os.path.dirname(os.path.abspath(path)), CONFIG_JSON)
        hf = read_json(side) if os.path.isfile(side) else None
        hc = config_from_hf(hf, side) if hf is not None else None
        c, sd = state_dict_from_onnx(path, hc)
        model = LabModel(c)
        model.load_state_dict(sd)
        t = mp = None
        src = "none"
        if hf is not None:
            t, mp, src = hf.get("rope_theta"), hf.get("max_position_embeddings"), side
            meta = dict(hf.get("ctxlab") or {})
        else:
            sh = _shipped_rope(path)
            if sh is not None:
                t, mp, src = sh
    else:
        kind = "checkpoint"
        if not os.path.isfile(path):
            raise LabIOError(f"not a file: {path}")
        model, c, ck = _load_checkpoint_file(path)
        t, mp, src = ck.get("theta"), _checkpoint_max_pos(ck), path
    if theta is not None:
        t, src = theta, "given"
    if max_position_embeddings is not None:
        mp = max_position_embeddings
        src = src if src == "given" else src + "; max positions given"
    if require_rope and t is None:
        raise LabIOError(f"{path}: RoPE theta unknown (no config.json beside it, no lab-model.json entry); pass it explicitly")
    if t is not None:
        t = float(t)
        if not math.isfinite(t) or t <= 0:
            raise LabIOError(f"{path}: bad rope_theta {t}")
    if mp is not None:
        mp = int(mp)
    model.eval()
    return LoadedModel(model, c, t, mp, kind, path, src, ck, meta)


# --------------------------------------------------------------------------------------------
# saving


def checkpoint_dict(model: LabModel, theta: Optional[float], max_pos: Optional[int], opt_state=None, step=None,
                    extra: Optional[dict] = None) -> dict:
    """A checkpoint in train.py's format (plus max_position_embeddings), every tensor on the CPU."""
    ck = {"model": cpu_tensors(model.state_dict()), "config": model.c.to_dict(), "theta": None if theta is None else float(theta),
          "max_position_embeddings": None if max_pos is None else int(max_pos), "step": step}
    if opt_state is not None:
        ck["opt"] = cpu_tensors(opt_state)
    ck.update(extra or {})
    return ck


def save_model_dir(path: str, model: LabModel, theta: float, max_pos: int, extra_meta: Optional[dict] = None,
                   opt_state=None, step=None, checkpoint_extra: Optional[dict] = None) -> Dict[str, str]:
    """Write a lab model directory: model.pt, model.onnx, config.json.

    extra_meta goes into config.json's "ctxlab" object (JSON-serialisable); checkpoint_extra into
    the checkpoint's top level (train.py keeps "args", "stage", "wall_seconds" there). Each file is
    written under a temporary name and renamed; an existing config.json is removed first and
    written last, so a directory with a config.json is complete. Returns {kind: file path}."""
    from export_onnx import export  # imported here: it pulls in onnx

    if theta is None or not math.isfinite(float(theta)) or float(theta) <= 0:
        raise LabIOError(f"save_model_dir {path}: bad rope_theta {theta}")
    if max_pos is None or int(max_pos) < 1:
        raise LabIOError(f"save_model_dir {path}: bad max_position_embeddings {max_pos}")
    if os.path.exists(path) and not os.path.isdir(path):
        raise LabIOError(f"{path} exists and is not a directory")
    os.makedirs(path, exist_ok=True)
    files = {k: os.path.join(path, n) for k, n in (("checkpoint", MODEL_PT), ("graph", MODEL_ONNX), ("config", CONFIG_JSON))}
    tmp = {k: os.path.join(path, "." + os.path.basename(v) + ".tmp") for k, v in files.items()}
    cpu_model = model if all(p.device.type == "cpu" for p in model.parameters()) else copy.deepcopy(model).cpu()
    was_training = cpu_model.training
    meta = {"parameters": num_params(cpu_model)}
    meta.update(extra_meta or {})
    try:
        torch.save(checkpoint_dict(cpu_model, theta, max_pos, opt_state, step, dict(checkpoint_extra or {}, ctxlab=meta)), tmp["checkpoint"])
        with torch.random.fork_rng(devices=[]):  # export draws random dummy inputs
            export(cpu_model, tmp["graph"])
        cpu_model.train(was_training)
        if os.path.exists(files["config"]):
            os.remove(files["config"])
        os.replace(tmp["checkpoint"], files["checkpoint"])
        os.replace(tmp["graph"], files["graph"])
        write_json_atomic(files["config"], hf_config(cpu_model.c, theta, max_pos, meta))
    finally:
        for t in tmp.values():
            if os.path.exists(t):
                os.remove(t)
    return files


# --------------------------------------------------------------------------------------------
# CLI helpers


class OneLineParser(argparse.ArgumentParser):
    """argparse with a one-line error message (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_cli(main) -> None:
    """Run main(); a LabIOError or OSError becomes one 'error: ...' line on stderr and exit 1."""
    try:
        rc = main()
    except LabIOError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    except BrokenPipeError:  # stdout closed by the reader (e.g. piped into head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as e:
        print(f"error: {e.strerror or e}{': ' + e.filename if getattr(e, 'filename', None) else ''}", file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(rc or 0)


def _main():
    ap = OneLineParser(prog="lab_io.py", description="Inspect or convert lab models (.pt checkpoint, lab model directory, lab .onnx).")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{info,convert}", parser_class=OneLineParser)
    p = sub.add_parser("info", help="print the architecture and RoPE settings of a model")
    p.add_argument("path")
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("convert", help="write a lab model directory from any supported form")
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rope-theta", type=float, default=None, help="override / supply the RoPE theta")
    p.add_argument("--max-position-embeddings", type=int, default=None, help="override / supply the context length")
    p.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(max(1, a.threads))
    if a.cmd == "info":
        lm = load_model(a.path, require_rope=False)
        print(lm.describe(), flush=True)
        print(json.dumps(hf_config(lm.config, lm.theta, lm.max_position_embeddings, lm.meta)), flush=True)
        return 0
    lm = load_model(a.src, a.rope_theta, a.max_position_embeddings, require_rope=True)
    if lm.max_position_embeddings is None:
        raise LabIOError(f"{a.src}: max_position_embeddings unknown; pass --max-position-embeddings")
    print(f"loaded {lm.describe()}", flush=True)
    save_model_dir(a.out, lm.model, lm.theta, lm.max_position_embeddings,
                   {"producer": "tools/lab-model/lab_io.py convert", "source": a.src, "source_kind": lm.kind, "rope_source": lm.rope_source})
    print(f"done: wrote {a.out} ({MODEL_ONNX}, {MODEL_PT}, {CONFIG_JSON}), rope_theta {lm.theta}, "
          f"max_position_embeddings {lm.max_position_embeddings}", flush=True)
    return 0


if __name__ == "__main__":
    run_cli(_main)
