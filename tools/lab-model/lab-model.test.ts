import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const dir = import.meta.dirname;
const python = process.env.LAB_PYTHON ?? '/usr/bin/python3';

/**
 * The lab model's Python suite (test_lora.py): the ONNX weight mapping, the model-directory format,
 * SVD LoRA extraction and merge against numpy's singular values, CLI refusals, and a tiny
 * train → extract → merge pipeline. It needs Debian's python3-torch, python3-onnx and python3-numpy,
 * which `npm test` installs when they are missing.
 */
describe('lab model tools (python)', () => {
  it('test_lora passes', () => {
    const r = spawnSync(python, ['-m', 'unittest', 'test_lora'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
      timeout: 300_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.error, out).toBeUndefined();
    expect(r.status, out.slice(-4000)).toBe(0);
    expect(out).toMatch(/Ran \d+ tests/);
    expect(out).toMatch(/\nOK/);
  }, 300_000);

});
