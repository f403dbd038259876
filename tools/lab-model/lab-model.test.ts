import { CITIES_EN, ORIGINAL_INSTRUCTION, ORIGINAL_SYSTEM_PROMPT, valueNeedle, valueQuestion } from '@ctxlab/niah';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dir = import.meta.dirname;
const python = process.env.LAB_PYTHON ?? '/usr/bin/python3';

/** Runs one of the Python test modules of this folder and expects it to pass. */
function expectUnittestPasses(module: string, timeout: number): void {
  const r = spawnSync(python, ['-m', 'unittest', module], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
    timeout,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(r.error, out).toBeUndefined();
  expect(r.status, out.slice(-4000)).toBe(0);
  expect(out).toMatch(/Ran \d+ tests/);
  expect(out).toMatch(/\nOK/);
}

/**
 * The Python suites need Debian's python3-torch, python3-onnx and python3-numpy, which `npm test`
 * installs when they are missing.
 */
describe('lab model tools (python)', () => {
  /**
   * test_lora.py: the ONNX weight mapping, the model-directory format, SVD LoRA extraction and
   * merge against numpy's singular values, CLI refusals, and a tiny train → extract → merge pipeline.
   */
  it('test_lora passes', () => {
    expectUnittestPasses('test_lora', 300_000);
  }, 300_000);

  /**
   * test_device.py: the device-independent paths that `--device cuda` takes, run on the CPU: the
   * choice of `dynamo=False` for PyTorch's TorchScript exporter from torch.onnx.export's signature,
   * export from a CPU copy, load_checkpoint(path, device), CPU tensors in checkpoints, and
   * eval_retrieval.py / train.py with --device (end to end, and refusing an unusable device).
   */
  it('test_device passes', () => {
    expectUnittestPasses('test_device', 120_000);
  }, 120_000);

  /**
   * data.py keeps its own copy of the value needle's strings, so the Python trainer needs nothing
   * from the TypeScript libraries; the copy has to stay equal to what the NIAH engine asks.
   */
  it('data.py trains on the NIAH engine\'s value-needle strings', () => {
    const code =
      'import json, data; print(json.dumps({"cities": data.CITIES, "instruction": data.INSTRUCTION, "system": data.SYSTEM, ' +
      '"needle": data.needle_text("{city}", "{n}", False), "question": data.question_text("{city}")}))';
    const r = spawnSync(python, ['-c', code], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      cities: CITIES_EN,
      instruction: ORIGINAL_INSTRUCTION,
      system: ORIGINAL_SYSTEM_PROMPT,
      needle: valueNeedle('{city}', '{n}'),
      question: valueQuestion('{city}'),
    });
  });
});
