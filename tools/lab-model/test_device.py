"""Tests of the device-independent code paths: the ONNX exporter selection of export_onnx.py,
model.load_checkpoint(path, device), checkpoints written with CPU tensors, reference logits, and
eval_retrieval.py / train.py with --device. They run on the CPU (a few seconds, one thread); the
same code is what runs with --device cuda:

    cd tools/lab-model && /usr/bin/python3 -m unittest test_device -v
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import unittest

import numpy as np
import onnx
import torch

torch.set_num_threads(1)

import lab_io  # noqa: E402
import train  # noqa: E402
from eval_retrieval import grid  # noqa: E402
from export_onnx import dump_reference, export, onnx_export_kwargs  # noqa: E402
from model import LabModel, load_checkpoint, model_device, rope_tables  # noqa: E402

from test_lora import SMALL, TmpCase, random_model, run  # noqa: E402

CPU = torch.device("cpu")


def small_model(seed: int, **over) -> LabModel:
    """A small LabModel with random weights, norm weights too (the exporter merges initializers
    with equal values, so norms left at 1 would share one)."""
    return random_model(seed, **dict(SMALL, **over))


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# Signatures of torch.onnx.export in the PyTorch versions the trainer meets (bodies never run).
def export_torch_1_13(model, args, f, export_params=True, verbose=False, training=None, input_names=None,
                      output_names=None, operator_export_type=None, opset_version=None, do_constant_folding=True,
                      dynamic_axes=None, keep_initializers_as_inputs=None, custom_opsets=None,
                      export_modules_as_functions=False):
    raise AssertionError("only inspected")


def export_torch_2_9(model, args=(), f=None, *, kwargs=None, export_params=True, verbose=None, input_names=None,
                     output_names=None, opset_version=None, dynamic_axes=None, keep_initializers_as_inputs=False,
                     dynamo=True, external_data=True, dynamic_shapes=None, do_constant_folding=True, optimize=True):
    raise AssertionError("only inspected")


def export_torch_2_5(model, args=(), f=None, kwargs=None, export_params=True, verbose=None, input_names=None,
                     output_names=None, opset_version=None, dynamic_axes=None, dynamo=False, do_constant_folding=True):
    raise AssertionError("only inspected")


def export_any_keywords(*args, **kwargs):
    raise AssertionError("only inspected")


class TestExportKwargs(unittest.TestCase):
    def test_dynamo_keyword_selects_torchscript_exporter(self):
        self.assertEqual(onnx_export_kwargs(export_torch_2_9), {"dynamo": False})
        self.assertEqual(onnx_export_kwargs(export_torch_2_5), {"dynamo": False})

    def test_no_dynamo_keyword_passes_nothing(self):
        self.assertEqual(onnx_export_kwargs(export_torch_1_13), {})
        self.assertEqual(onnx_export_kwargs(export_any_keywords), {})
        self.assertEqual(onnx_export_kwargs(next), {})  # a builtin without an introspectable signature

    def test_installed_torch(self):
        has = "dynamo" in inspect.signature(torch.onnx.export).parameters
        self.assertEqual(onnx_export_kwargs(), {"dynamo": False} if has else {})
        self.assertEqual(onnx_export_kwargs(torch.onnx.export), onnx_export_kwargs())


class TestExport(TmpCase):

    def test_export_from_a_copy(self):
        """export() traces a CPU copy in eval mode: the model keeps its mode and parameters, and the
        graph (opset 14) holds exactly its weights."""
        m = small_model(3, tie_embeddings=False)
        m.train()
        before = {n: p.detach().clone() for n, p in m.named_parameters()}
        path = os.path.join(self.tmp, "m.onnx")
        g = export(m, path)
        self.assertTrue(m.training)
        self.assertEqual(model_device(m), CPU)
        self.assertEqual([o.version for o in g.opset_import if o.domain in ("", "ai.onnx")], [14])
        self.assertEqual([i.name for i in g.graph.input][:3], ["input_ids", "cos", "sin"])
        lm = lab_io.load_model(path, theta=10000.0)
        got = dict(lm.model.named_parameters())
        for n, p in m.named_parameters():
            self.assertTrue(torch.equal(p, before[n]), n)
            self.assertTrue(torch.equal(got[n], p), n)

    def test_dump_reference(self):
        m = small_model(4)
        prefix = os.path.join(self.tmp, "ref")
        dump_reference(m, 10000.0, prefix, 160)
        meta = read_json(prefix + ".json")
        flat = np.fromfile(prefix + ".bin", dtype="<f4")
        V = m.c.vocab_size
        self.assertEqual(flat.size, 2 * 64 * V + 160 * V + len(meta["niah"]["generated"]) * V)
        self.assertEqual(meta["niah"]["promptShape"], [160, V])
        ids = torch.tensor(meta["random"]["ids"], device=model_device(m))
        cos, sin = rope_tables(range(64), 10000.0, m.c.head_dim)
        with torch.no_grad():
            want = m(ids, cos, sin)[0].reshape(-1).cpu().numpy()
        np.testing.assert_array_equal(flat[:want.size], want)


class TestCheckpointDevice(TmpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = small_model(5)
        cls.ckpt = os.path.join(cls.tmp, "m.pt")
        torch.save(lab_io.checkpoint_dict(cls.model, 10000.0, 160, step=0), cls.ckpt)

    def test_load_checkpoint_on_device(self):
        ids = torch.randint(0, 259, (2, 24), generator=torch.Generator().manual_seed(0))
        cos, sin = rope_tables(range(24), 10000.0, self.model.c.head_dim)
        with torch.no_grad():
            want = self.model(ids, cos, sin)[0]
        for device in ("cpu", CPU):
            m, ck = load_checkpoint(self.ckpt, device)
            self.assertEqual(ck["theta"], 10000.0)
            self.assertEqual({p.device for p in m.parameters()}, {CPU})
            self.assertIs(m.lm_head.weight, m.embed_tokens.weight)  # still tied after the move
            with torch.no_grad():
                got = m(ids.to(device), cos.to(device), sin.to(device))[0]
            self.assertTrue(torch.equal(got.cpu(), want))

    def test_grid_defaults_to_the_models_device(self):
        m, ck = load_checkpoint(self.ckpt, "cpu")
        a = grid(m, ck["theta"], [160], [0.5], 2, seed=1, decode=False)
        b = grid(m, ck["theta"], [160], [0.5], 2, seed=1, device=CPU, decode=False)
        self.assertEqual(a["cells"], b["cells"])

    def test_train_save_writes_cpu_tensors(self):
        """train.py's checkpoint (model and optimiser state after a step) loads without map_location
        and resumes into a fresh optimiser."""
        m = small_model(6)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
        ids = torch.randint(0, 259, (1, 9))
        cos, sin = rope_tables(range(8), 10000.0, m.c.head_dim)
        m(ids[:, :-1], cos, sin)[0].logsumexp(-1).mean().backward()
        opt.step()
        path = os.path.join(self.tmp, "train.pt")
        train.save(path, m, opt, 1, argparse.Namespace(stage=1), 10000.0, {"stage": 1})
        ck = torch.load(path)
        tensors = [v for v in ck["model"].values()] + [t for s in ck["opt"]["state"].values() for t in s.values()
                                                        if isinstance(t, torch.Tensor)]
        self.assertTrue(tensors)
        self.assertEqual({t.device for t in tensors}, {CPU})
        opt2 = torch.optim.AdamW(m.parameters(), lr=1e-3)
        opt2.load_state_dict(ck["opt"])
        self.assertTrue(torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"]))

    def test_cpu_tensors_keeps_structure(self):
        obj = {"a": [torch.ones(2), (torch.zeros(1), 3)], "b": "x", "c": None}
        out = lab_io.cpu_tensors(obj)
        self.assertEqual(out["b"], "x")
        self.assertIsNone(out["c"])
        self.assertIsInstance(out["a"][1], tuple)
        self.assertTrue(torch.equal(out["a"][0], obj["a"][0]))
        self.assertEqual(out["a"][1][1], 3)

    def test_eval_retrieval_cli(self):
        out = os.path.join(self.tmp, "eval.json")
        r = run("eval_retrieval.py", "--ckpt", self.ckpt, "--device", "cpu", "--lengths", "160", "--depths", "0.5", "--n", "2",
                "--check-decode", "1", "--json", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("theta 10000.0 variant canonical device cpu (", r.stdout)
        res = read_json(out)
        self.assertEqual((res["device"], res["lengths"], res["n_per_cell"]), ("cpu", [160], 2))
        self.assertIn("160@0.5", res["cells"])
        # an untrained model does not reproduce the answer, so both samples went through greedy decoding
        self.assertEqual(len(res["samples"]), 2)

    def test_unusable_device(self):
        r = run("eval_retrieval.py", "--ckpt", self.ckpt, "--device", "gpu0")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.strip().splitlines(), ["error: --device 'gpu0': not a device name (cpu, cuda or cuda:N)"])
        if torch.cuda.is_available():
            return
        for args in (["eval_retrieval.py", "--ckpt", self.ckpt], ["train.py", "--stage", "1", "--seq-len", "160", "--steps", "1",
                                                                  "--out", os.path.join(self.tmp, "never")]):
            r = run(*args, "--device", "cuda")
            self.assertEqual(r.returncode, 1, r.stderr)
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertTrue(lines[0].startswith("error: --device cuda: CUDA is not available ("), lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never")))


if __name__ == "__main__":
    unittest.main()
