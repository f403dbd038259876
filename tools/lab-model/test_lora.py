"""Tests of lab_io.py (weight I/O, ONNX mapping), lora.py (SVD extraction / merge) and train.py's
model-directory mode. One thread, well under a minute:

    cd tools/lab-model && /usr/bin/python3 -m unittest test_lora -v
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

torch.set_num_threads(1)

import lab_io  # noqa: E402
import lora  # noqa: E402
from export_onnx import export  # noqa: E402
from lab_io import LabIOError  # noqa: E402
from model import Config, LabModel, rope_tables  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(lab_io.ROOT, "libs", "inference", "models")
SMALL = dict(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16, intermediate_size=96)


def quiet(*a, **k):
    pass


def random_model(seed: int, **cfg) -> LabModel:
    """A LabModel with random weights everywhere (norm weights too, so that a swapped mapping shows)."""
    torch.manual_seed(seed)
    m = LabModel(Config(**cfg))
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    return m


def perturbed(m: LabModel, seed: int, scale=0.01, rank=None) -> LabModel:
    """A copy of m with every parameter changed (linear weights by a rank-`rank` delta when given)."""
    g = torch.Generator().manual_seed(seed)
    out = LabModel(m.c)
    out.load_state_dict(m.state_dict())
    with torch.no_grad():
        for n, p in out.named_parameters():
            if p.dim() == 2 and rank is not None and n != "embed_tokens.weight":
                d = torch.randn(p.shape[0], rank, generator=g) @ torch.randn(rank, p.shape[1], generator=g)
                p.add_(scale * d / math.sqrt(rank))
            else:
                p.add_(scale * torch.randn(p.shape, generator=g))
    return out


def save_pt(path, m, theta, max_pos):
    torch.save(lab_io.checkpoint_dict(m, theta, max_pos, step=0), path)
    return path


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def params(m):
    return dict(m.named_parameters())


def run(*args, timeout=120):
    """Run a script of this folder with /usr/bin/python3-like interpreter; returns CompletedProcess."""
    return subprocess.run([sys.executable, *args], cwd=HERE, capture_output=True, text=True, timeout=timeout)


class TmpCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lab-lora-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def p(self, *parts):
        return os.path.join(self.tmp, *parts)

    def assertOneLineError(self, r, rc, *needles):
        self.assertEqual(r.returncode, rc, f"stdout: {r.stdout}\nstderr: {r.stderr}")
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        self.assertEqual(len(lines), 1, f"expected one error line, got: {r.stderr!r}")
        for n in needles:
            self.assertIn(n, lines[0])


class TestOnnxRoundTrip(TmpCase):
    def check_roundtrip(self, m: LabModel, name: str):
        path = self.p(name)
        export(m, path)
        lm = lab_io.load_model(path, theta=12345.0, max_position_embeddings=300)
        self.assertEqual(lm.kind, "onnx")
        self.assertEqual(lm.config.to_dict(), m.c.to_dict())
        self.assertEqual((lm.theta, lm.max_position_embeddings), (12345.0, 300))
        a, b = params(m), params(lm.model)
        self.assertEqual(sorted(a), sorted(b))
        for n in a:
            self.assertTrue(torch.equal(a[n], b[n]), n)
        return lm

    def test_random_model_tied(self):
        self.check_roundtrip(random_model(0), "tied.onnx")

    def test_random_model_untied_other_shape(self):
        lm = self.check_roundtrip(random_model(1, tie_embeddings=False, num_kv_heads=1, **{k: v for k, v in SMALL.items() if k != "num_kv_heads"}),
                                  "untied.onnx")
        self.assertFalse(lm.config.tie_embeddings)
        self.assertEqual(lm.config.num_kv_heads, 1)

    def test_mapping_by_initializer_order(self):
        """Without node names the linear weights are mapped by initializer order; shapes are checked."""
        import onnx
        from onnx import numpy_helper
        m = random_model(5, **SMALL)
        path = self.p("named.onnx")
        g = export(m, path)
        for n in g.graph.node:
            n.name = ""
        anon = self.p("anon.onnx")
        onnx.save(g, anon)
        lm = lab_io.load_model(anon, theta=1.0)
        a, b = params(m), params(lm.model)
        self.assertTrue(all(torch.equal(a[n], b[n]) for n in a))
        # swap two initializers of different shapes (q [64, 64] and k [64, 32] of layer 1): refused
        inits = [t for t in g.graph.initializer if not t.name.startswith("model.")]
        q, k = numpy_helper.to_array(inits[7]), numpy_helper.to_array(inits[8])
        inits[7].CopyFrom(numpy_helper.from_array(k, inits[7].name))
        inits[8].CopyFrom(numpy_helper.from_array(q, inits[8].name))
        bad = self.p("bad.onnx")
        onnx.save(g, bad)
        with self.assertRaisesRegex(LabIOError, r"layers.1.self_attn.q_proj .*has shape \[64, 32\], expected \[64, 64\]"):
            lab_io.load_model(bad, theta=1.0)

    def test_bare_onnx_without_rope_needs_theta(self):
        path = self.p("norope.onnx")
        export(random_model(2, **SMALL), path)
        with self.assertRaisesRegex(LabIOError, "RoPE theta unknown"):
            lab_io.load_model(path)
        self.assertIsNone(lab_io.load_model(path, require_rope=False).theta)

    @unittest.skipUnless(os.path.isfile(os.path.join(SHIPPED, "lab-stage1.onnx")), "shipped lab-stage1.onnx not present")
    def test_shipped_stage1(self):
        src = os.path.join(SHIPPED, "lab-stage1.onnx")
        lm = lab_io.load_model(src)
        self.assertEqual((lm.theta, lm.max_position_embeddings), (10000.0, 512))
        self.assertEqual(lm.config.to_dict(), Config().to_dict())
        ids = torch.randint(0, 259, (1, 24), generator=torch.Generator().manual_seed(3))
        cos, sin = rope_tables(range(24), lm.theta, lm.config.head_dim)
        with torch.no_grad():
            logits, _ = lm.model(ids, cos, sin)
        self.assertEqual(list(logits.shape), [1, 24, 259])
        self.assertTrue(bool(torch.isfinite(logits).all()))
        # export the loaded model again: same weights in the same initializer order, same logits
        again = self.p("stage1-again.onnx")
        export(lm.model, again)
        import onnx
        from onnx import numpy_helper
        w0 = [numpy_helper.to_array(t) for t in onnx.load(src).graph.initializer]
        w1 = [numpy_helper.to_array(t) for t in onnx.load(again).graph.initializer]
        self.assertEqual(len(w0), len(w1))
        for x, y in zip(w0, w1):
            self.assertTrue(np.array_equal(x, y))
        lm2 = lab_io.load_model(again, theta=lm.theta, max_position_embeddings=512)
        with torch.no_grad():
            logits2, _ = lm2.model(ids, cos, sin)
        self.assertTrue(torch.equal(logits, logits2))

    @unittest.skipUnless(os.path.isfile(os.path.join(HERE, "runs", "ref-stage1.json")), "reference logits (runs/) not present")
    def test_shipped_stage1_matches_reference_logits(self):
        """runs/ref-stage1.* holds PyTorch logits of the checkpoint the shipped graph was exported from."""
        lm = lab_io.load_model(os.path.join(SHIPPED, "lab-stage1.onnx"))
        meta = load_json(os.path.join(HERE, "runs", "ref-stage1.json"))
        ref = np.fromfile(os.path.join(HERE, "runs", "ref-stage1.bin"), dtype="<f4")
        ids = torch.tensor(meta["random"]["ids"])
        cos, sin = rope_tables(range(ids.shape[1]), lm.theta, lm.config.head_dim)
        with torch.no_grad():
            logits, _ = lm.model(ids, cos, sin)
        r = torch.from_numpy(ref[: logits.numel()].copy()).view_as(logits)
        self.assertLess(float((logits - r).abs().max()), 1e-4)

    def test_model_dir_roundtrip(self):
        m = random_model(4, **SMALL)
        d = self.p("dir")
        lab_io.save_model_dir(d, m, 55663.0, 2048, {"producer": "test"}, step=7)
        self.assertEqual(sorted(f for f in os.listdir(d)), ["config.json", "model.onnx", "model.pt"])
        cfg = load_json(os.path.join(d, "config.json"))
        for k, v in {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 96, "vocab_size": 259,
                     "rms_norm_eps": 1e-5, "tie_word_embeddings": True, "rope_theta": 55663.0, "rope_scaling": None,
                     "max_position_embeddings": 2048, "torch_dtype": "float32", "bos_token_id": 256, "eos_token_id": 257}.items():
            self.assertEqual(cfg[k], v, k)
        self.assertEqual(cfg["ctxlab"]["producer"], "test")
        for path, kind in ((d, "directory"), (os.path.join(d, "model.onnx"), "onnx"), (os.path.join(d, "model.pt"), "checkpoint")):
            lm = lab_io.load_model(path)
            self.assertEqual(lm.kind, kind)
            self.assertEqual((lm.theta, lm.max_position_embeddings), (55663.0, 2048), path)
            a, b = params(m), params(lm.model)
            for n in a:
                self.assertTrue(torch.equal(a[n], b[n]), (path, n))

    def test_not_a_lab_graph(self):
        import onnx
        from onnx import TensorProto, helper
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        path = self.p("relu.onnx")
        onnx.save(helper.make_model(g), path)
        with self.assertRaisesRegex(LabIOError, "not a lab model graph"):
            lab_io.load_model(path, theta=1.0)
        with self.assertRaisesRegex(LabIOError, "no such file"):
            lab_io.load_model(self.p("missing.onnx"))


class TestLoraMath(TmpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base = random_model(10)
        cls.ft = perturbed(cls.base, 11, scale=0.01)  # full-rank deltas everywhere
        cls.base_pt = save_pt(os.path.join(cls.tmp, "base.pt"), cls.base, 10000.0, 512)
        cls.ft_dir = os.path.join(cls.tmp, "ft")
        lab_io.save_model_dir(cls.ft_dir, cls.ft, 154243.0, 2048, {"producer": "test"})

    def test_full_rank_merge_reproduces_finetuned(self):
        ad = self.p("full")
        cfg = lora.extract(self.ft_dir, self.base_pt, ad, 10**6, list(lab_io.LINEARS), log=quiet)
        mods = cfg["ctxlab"]["modules"]
        self.assertEqual(mods["model.layers.0.self_attn.k_proj"]["rank"], 64)
        self.assertEqual(mods["model.layers.0.mlp.down_proj"]["rank"], 128)
        self.assertEqual((cfg["r"], cfg["lora_alpha"], cfg["rank_pattern"], cfg["alpha_pattern"]),
                         (128, 128, {"k_proj": 64, "v_proj": 64}, {"k_proj": 64, "v_proj": 64}))
        self.assertLess(max(m["rel_error"] for m in mods.values()), 1e-6)
        self.assertEqual((cfg["ctxlab"]["rope_theta"], cfg["ctxlab"]["max_position_embeddings"]), (154243.0, 2048))
        self.assertEqual((cfg["ctxlab"]["base"]["rope_theta"], cfg["ctxlab"]["base"]["max_position_embeddings"]), (10000.0, 512))
        out = self.p("merged-full")
        merged = lora.merge(self.base_pt, ad, out, cfg["ctxlab"]["rope_theta"], cfg["ctxlab"]["max_position_embeddings"], log=quiet)
        self.assertEqual((merged["rope_theta"], merged["max_position_embeddings"]), (154243.0, 2048))
        lm = lab_io.load_model(out)
        self.assertEqual(lm.theta, 154243.0)
        a, b = params(self.ft), params(lm.model)
        worst = max(float((a[n] - b[n]).abs().max()) for n in a)
        self.assertLess(worst, 1e-5)

    def test_adapter_layout(self):
        ad = self.p("layout")
        cfg = lora.extract(self.ft_dir, self.base_pt, ad, 4, ["q_proj", "v_proj"], log=quiet)
        for k in ("peft_type", "r", "lora_alpha", "target_modules", "base_model_name_or_path", "modules_to_save", "task_type", "bias"):
            self.assertIn(k, cfg)
        self.assertEqual((cfg["peft_type"], cfg["task_type"], cfg["bias"], cfg["r"], cfg["lora_alpha"]), ("LORA", "CAUSAL_LM", "none", 4, 4))
        self.assertEqual(cfg["target_modules"], ["q_proj", "v_proj"])
        sd = torch.load(os.path.join(ad, "adapter_model.pt"))
        self.assertEqual(list(sd["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"].shape), [4, 128])
        self.assertEqual(list(sd["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"].shape), [128, 4])
        self.assertEqual(list(sd["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].shape), [64, 4])
        # non-target parameters that differ are kept at full rank under their own names
        self.assertEqual(list(sd["base_model.model.model.layers.1.self_attn.k_proj.weight"].shape), [64, 128])
        self.assertEqual(list(sd["base_model.model.model.norm.weight"].shape), [128])
        self.assertIn("model.embed_tokens", cfg["modules_to_save"])
        self.assertEqual(cfg["ctxlab"]["summary"]["adapter_parameters"], sum(t.numel() for t in sd.values()))

    def test_rel_error_vs_rank_and_energy(self):
        prev = None
        name = "model.layers.2.mlp.down_proj"
        dw = (params(self.ft)["layers.2.mlp.down_proj.weight"] - params(self.base)["layers.2.mlp.down_proj.weight"]).detach().double().numpy()
        s = np.linalg.svd(dw, compute_uv=False)
        for r in (1, 2, 4, 8, 16, 32, 64, 128):
            cfg = lora.extract(self.ft_dir, self.base_pt, self.p(f"r{r}"), r, list(lab_io.LINEARS), log=quiet)
            mods = cfg["ctxlab"]["modules"]
            for mod, st in mods.items():
                self.assertAlmostEqual(st["rel_error"], math.sqrt(max(0.0, 1.0 - st["energy"])), delta=1e-5, msg=(r, mod))
                if prev is not None:
                    self.assertLessEqual(st["rel_error"], prev[mod] + 1e-7, (r, mod))
            expected = math.sqrt(float((s[r:] ** 2).sum() / (s ** 2).sum()))
            self.assertAlmostEqual(mods[name]["rel_error"], expected, delta=1e-5)
            prev = {k: v["rel_error"] for k, v in mods.items()}

    def test_low_rank_delta_is_exact(self):
        ft = perturbed(self.base, 12, scale=0.05, rank=3)
        p = save_pt(self.p("lowrank.pt"), ft, 20000.0, 1024)
        cfg = lora.extract(p, self.base_pt, self.p("lowrank"), 3, list(lab_io.LINEARS), log=quiet)
        self.assertLess(max(m["rel_error"] for m in cfg["ctxlab"]["modules"].values()), 1e-5)

    def test_merge_into_sibling(self):
        ad = self.p("sib-full")
        lora.extract(self.ft_dir, self.base_pt, ad, 10**6, list(lab_io.LINEARS), log=quiet)
        sib = perturbed(self.base, 13, scale=0.05)
        sib_pt = save_pt(self.p("sibling.pt"), sib, 10000.0, 512)
        for scale in (1.0, 0.5):
            out = self.p(f"sib-merged-{scale}")
            lora.merge(sib_pt, ad, out, 154243.0, 2048, scale=scale, log=quiet)
            got, s, f, b = params(lab_io.load_model(out).model), params(sib), params(self.ft), params(self.base)
            for n in got:
                if n.split(".")[-2] in lab_io.LINEARS:
                    want = s[n].double() + scale * (f[n].double() - b[n].double())
                    self.assertLess(float((got[n].double() - want).abs().max()), 1e-5, (scale, n))
                else:  # saved at full rank: replaced by the fine-tuned tensor
                    self.assertTrue(torch.equal(got[n], f[n]), (scale, n))


class TestCliErrors(TmpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        base = random_model(20)
        cls.a = save_pt(os.path.join(cls.tmp, "a.pt"), base, 10000.0, 512)
        cls.b = save_pt(os.path.join(cls.tmp, "b.pt"), perturbed(base, 21), 154243.0, 2048)
        cls.small = save_pt(os.path.join(cls.tmp, "small.pt"), random_model(22, **SMALL), 10000.0, 512)
        cls.ad = os.path.join(cls.tmp, "ad")
        lora.extract(cls.b, cls.a, cls.ad, 4, list(lab_io.LINEARS), log=quiet)

    def test_missing_model(self):
        r = run("lora.py", "extract", "--model", self.p("nope"), "--base", self.a, "--out", self.p("x"), "--max-rank", "4")
        self.assertOneLineError(r, 1, "no such file or directory", self.p("nope"))

    def test_architecture_mismatch(self):
        r = run("lora.py", "extract", "--model", self.small, "--base", self.a, "--out", self.p("x"), "--max-rank", "4")
        self.assertOneLineError(r, 1, "architectures differ", "hidden_size 64 (model) vs 128 (base)")

    def test_rank_zero(self):
        r = run("lora.py", "extract", "--model", self.b, "--base", self.a, "--out", self.p("x"), "--max-rank", "0")
        self.assertOneLineError(r, 2, "--max-rank must be >= 1")
        self.assertFalse(os.path.exists(self.p("x")))

    def test_unknown_target(self):
        r = run("lora.py", "extract", "--model", self.b, "--base", self.a, "--out", self.p("x"), "--max-rank", "4", "--targets", "q_proj,qkv")
        self.assertOneLineError(r, 1, "--targets", "qkv")

    def test_merge_missing_adapter(self):
        r = run("lora.py", "merge", "--target", self.a, "--lora", self.p("no-adapter"), "--out", self.p("m"),
                "--rope-theta", "154243", "--max-position-embeddings", "2048")
        self.assertOneLineError(r, 1, "no such file or directory", "no-adapter")

    def test_merge_architecture_mismatch(self):
        r = run("lora.py", "merge", "--target", self.small, "--lora", self.ad, "--out", self.p("m"),
                "--rope-theta", "154243", "--max-position-embeddings", "2048")
        self.assertOneLineError(r, 1, "different architecture", "hidden_size")

    def test_merge_shapes_do_not_fit(self):
        """An adapter without the architecture record (e.g. from another tool): the shape check refuses it."""
        foreign = self.p("foreign")
        shutil.copytree(self.ad, foreign)
        cfg = load_json(os.path.join(foreign, "adapter_config.json"))
        del cfg["ctxlab"]
        with open(os.path.join(foreign, "adapter_config.json"), "w") as f:
            json.dump(cfg, f)
        r = run("lora.py", "merge", "--target", self.small, "--lora", foreign, "--out", self.p("m"),
                "--rope-theta", "154243", "--max-position-embeddings", "2048")
        self.assertOneLineError(r, 1, "does not fit")

    def test_merge_bad_theta(self):
        r = run("lora.py", "merge", "--target", self.a, "--lora", self.ad, "--out", self.p("m"),
                "--rope-theta", "-1", "--max-position-embeddings", "2048")
        self.assertOneLineError(r, 2, "--rope-theta")

    def test_train_bad_inputs(self):
        r = run("train.py", "--stage", "2", "--init", self.p("nope.pt"), "--seq-len", "256", "--steps", "1", "--out", self.p("t"))
        self.assertOneLineError(r, 1, "no such file or directory", "nope.pt")
        r = run("train.py", "--stage", "1", "--seq-len", "128", "--steps", "1", "--out", self.p("t"))
        self.assertOneLineError(r, 2, "--seq-len 128 is too short")


class TestPipeline(TmpCase):
    """train stage 1 -> train stage 2 from it -> extract -> merge into stage 1, through the CLIs."""
    TINY = ["--steps", "3", "--batch-tokens", "512", "--eval-every", "0", "--threads", "1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s1 = os.path.join(cls.tmp, "stage1")
        cls.r1 = run("train.py", "--stage", "1", "--seq-len", "160", "--out", cls.s1, *cls.TINY)

    def test_pipeline(self):
        self.assertEqual(self.r1.returncode, 0, self.r1.stderr)
        self.assertIn("step 3/3 ", self.r1.stdout)
        self.assertTrue(self.r1.stdout.rstrip().splitlines()[-1].startswith("done: 3 steps"))
        for f in ("model.onnx", "model.pt", "config.json"):
            self.assertTrue(os.path.isfile(os.path.join(self.s1, f)), f)
        s2 = self.p("stage2")
        r = run("train.py", "--stage", "2", "--init", self.s1, "--seq-len", "256", "--base-len", "128", "--out", s2, *self.TINY)
        self.assertEqual(r.returncode, 0, r.stderr)
        c2 = load_json(os.path.join(s2, "config.json"))
        self.assertEqual((c2["rope_theta"], c2["max_position_embeddings"]), (55663.0, 256))
        ad = self.p("adapter")
        r = run("lora.py", "extract", "--model", s2, "--base", self.s1, "--out", ad, "--max-rank", "8", "--threads", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("module 28/28 model.layers.3.mlp.down_proj rank 8 rel_error ", r.stdout)
        self.assertIn("summary: lora_modules 28 ", r.stdout)
        out = self.p("merged")
        r = run("lora.py", "merge", "--target", self.s1, "--lora", ad, "--out", out, "--rope-theta", "55663",
                "--max-position-embeddings", "256", "--threads", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("patched rope_theta: 10000.0 (target) -> 55663.0", r.stdout)
        self.assertIn("patched max_position_embeddings: 160 (target) -> 256", r.stdout)
        self.assertEqual(sorted(os.listdir(out)), ["config.json", "model.onnx", "model.pt"])
        cm = load_json(os.path.join(out, "config.json"))
        self.assertEqual((cm["rope_theta"], cm["max_position_embeddings"]), (55663.0, 256))
        merged = lab_io.load_model(out)
        via_onnx = lab_io.load_model(os.path.join(out, "model.onnx"))
        self.assertEqual(via_onnx.theta, 55663.0)
        a, b = params(merged.model), params(via_onnx.model)
        self.assertTrue(all(torch.equal(a[n], b[n]) for n in a))

    def test_pt_out_and_onnx_init_and_resume(self):
        self.assertEqual(self.r1.returncode, 0, self.r1.stderr)
        out = self.p("s2.pt")
        r = run("train.py", "--stage", "2", "--init", os.path.join(self.s1, "model.onnx"), "--seq-len", "256", "--base-len", "128",
                "--out", out, *self.TINY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(out) and os.path.isfile(self.p("s2.csv")))
        ck = torch.load(out, map_location="cpu")
        self.assertEqual((ck["step"], ck["theta"], ck["init_theta"]), (3, 55663.0, 10000.0))
        d = self.p("resume")
        shutil.copytree(self.s1, d)
        r = run("train.py", "--stage", "1", "--seq-len", "160", "--out", d, "--resume", "--steps", "4", "--batch-tokens", "512",
                "--eval-every", "0", "--threads", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"resumed {os.path.join(d, 'model.pt')} at step 3", r.stdout)
        self.assertIn("step 4/4 ", r.stdout)
        self.assertEqual(lab_io.load_model(d).checkpoint["step"], 4)


if __name__ == "__main__":
    unittest.main()
