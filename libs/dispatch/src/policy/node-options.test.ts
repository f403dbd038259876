import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../executors/local';
import { renderJob } from '../render/index';
import { parseJobSpec } from '../specs';
import { DispatchError } from '../errors';
import type { JobHandle } from '../executors/types';
import { thrown } from '../testing/thrown';

/**
 * The attack this policy exists for: a member's lab serve spec with
 * `env: { NODE_OPTIONS: "--import=data:text/javascript,…" }`. The lab model server is a node
 * process, so before the policy the renderer copied the variable into the job's env and the local
 * executor ran the member's JavaScript with the worker's user.
 */
const dir = mkdtempSync(join(tmpdir(), 'ctxlab-node-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LAB = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
// Stands in for the model server: any node program; the payload runs before it.
const opts = { labServer: [process.execPath, '-e', 'process.exit(0)'] };
const executor = new LocalExecutor({ workRoot: join(dir, 'jobs'), baseEnv: { PATH: process.env.PATH } });

function attack(marker: string) {
  const code = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran as ' + process.getuid());`;
  const spec = { kind: 'serve', engine: 'lab', model: 'file:///m/lab', servedName: 'lab', modelConfig: LAB, maxModelLen: 1024, host: '127.0.0.1', port: 18_555 };
  return { spec, nodeOptions: `--import=data:text/javascript,${encodeURIComponent(code)}` };
}

/** Runs `start` and the job it starts to the end; the DispatchError it refused with, or null when it ran. */
async function runToEnd(start: () => Promise<JobHandle>): Promise<DispatchError | null> {
  try {
    await (await start()).wait();
    return null;
  } catch (e) {
    if (e instanceof DispatchError) return e;
    throw e;
  }
}

describe('NODE_OPTIONS in a lab serve spec', () => {
  it('the payload is live: a node child started with it runs the attacker\'s code', () => {
    const marker = join(dir, 'control');
    const { nodeOptions } = attack(marker);
    // Typed as NodeJS.ProcessEnv: where Next's types are loaded that type requires NODE_ENV.
    const env = {} as NodeJS.ProcessEnv;
    Object.assign(env, { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions });
    const r = spawnSync(opts.labServer[0]!, opts.labServer.slice(1), { env });
    expect(r.status).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('is refused when the spec is parsed, naming env.NODE_OPTIONS and why', () => {
    const { spec, nodeOptions } = attack(join(dir, 'parse'));
    const e = thrown(() => parseJobSpec({ ...spec, env: { NODE_OPTIONS: nodeOptions } }));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.field).toBe('env.NODE_OPTIONS');
    expect(e.message).toMatch(/env\.NODE_OPTIONS: NODE_OPTIONS can never be set by a job spec: node reads command-line options from it/);
  });

  it('parse → render → local executor never runs it', async () => {
    const marker = join(dir, 'pipeline');
    const { spec, nodeOptions } = attack(marker);
    const refusal = await runToEnd(() => executor.start('attack-1', renderJob({ ...spec, env: { NODE_OPTIONS: nodeOptions } } as never, opts)));
    expect(existsSync(marker), 'the attacker\'s code ran').toBe(false);
    expect(refusal?.field).toBe('env.NODE_OPTIONS');
  });

  it('the executor refuses it too when a renderer lets it through (defence in depth)', async () => {
    const marker = join(dir, 'executor');
    const { spec, nodeOptions } = attack(marker);
    const clean = renderJob(spec as never, opts);
    // What the renderer produced before the policy: the spec's env merged into the server's.
    const leaked = { ...clean, env: { NODE_OPTIONS: nodeOptions, ...clean.env } };
    const e = await runToEnd(() => executor.start('attack-2', leaked));
    expect(existsSync(marker), 'the attacker\'s code ran').toBe(false);
    expect(e?.code).toBe('INVALID_SPEC');
    expect(e?.field).toBe('env.NODE_OPTIONS');
    expect(e?.message).toMatch(/NODE_OPTIONS can never be passed to the lab model server: node reads command-line options from it/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(executor.workDir('attack-2'))).toBe(false);
    // The same job without the variable runs.
    const h = await executor.start('clean-1', clean);
    expect((await h.wait()).reason).toBe('succeeded');
  });
});
