import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { RenderedJob } from '../render/types';
import { LineSplitter } from './lines';
import { LocalExecutor, parseGpuInventory, processGroupAlive } from './local';
import type { JobHandle, LogLine } from './types';
import { rejection, thrown } from '../testing/thrown';

const root = mkdtempSync(join(tmpdir(), 'ctxlab-local-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const executor = new LocalExecutor({ workRoot: root, baseEnv: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, killGraceMs: 400 });
let n = 0;
const id = () => `job-${++n}`;

function nodeJob(script: string, extra: Partial<RenderedJob> = {}): RenderedJob {
  const argv = [process.execPath, '-e', script];
  return {
    kind: 'train',
    argv,
    env: {},
    files: [],
    steps: [argv],
    resources: { gpus: 0, gpuType: null, nodes: 1, gpusPerNode: 0 },
    outputs: [],
    tool: { id: 'lab-trainer', name: 'node' },
    ...extra,
  };
}

/**
 * A job whose script starts a grandchild Node process running `grandchild` (with `stdio`), holds
 * it as `g`, and goes on with `then`.
 */
function grandchildJob(grandchild: string, stdio: string, then: string): RenderedJob {
  return nodeJob(`const { spawn } = require('child_process');
    const g = spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: ${stdio} });
    ${then}`);
}
const IDLE = 'setInterval(() => {}, 1000)';

/** A live process: exists and is not a zombie (PID 1 here may never reap re-parented children). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function collect(h: JobHandle): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of h.logs()) out.push(l);
  return out;
}

/** Reads the log until a line matches, returning the match. */
async function waitForLine(h: JobHandle, re: RegExp): Promise<RegExpMatchArray> {
  for await (const l of h.logs()) {
    const m = l.text.match(re);
    if (m) return m;
  }
  throw new Error(`log ended without ${re}`);
}

describe('line splitting', () => {
  it('splits on \\n, \\r\\n and \\r, keeps split UTF-8 characters whole, flushes the last line', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('a\r\nb\rc\né');
    expect([...s.push(bytes.subarray(0, bytes.length - 1)), ...s.push(bytes.subarray(bytes.length - 1)), ...s.end()]).toEqual(['a', 'b', 'c', 'é']);
    const t = new LineSplitter();
    expect([...t.push('x\r'), ...t.push('\ny\n'), ...t.end()]).toEqual(['x', 'y']);
  });
});

describe('local executor', () => {
  it('runs a process in the job directory with the rendered files and env, streaming stdout and stderr by line', async () => {
    const jobId = id();
    const h = await executor.start(
      jobId,
      nodeJob(
        `const fs = require('fs');
         console.log('cfg=' + fs.readFileSync('conf/a.yaml', 'utf8').trim());
         console.error('warn: ' + process.env.LANG + ' ' + process.env.PYTHONUNBUFFERED);
         process.stdout.write('partial');`,
        { files: [{ path: 'conf/a.yaml', content: 'x: 1\n' }], env: { PYTHONUNBUFFERED: '1' } },
      ),
    );
    expect(h.jobId).toBe(jobId);
    const lines = await collect(h);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(['cfg=x: 1', 'partial']);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['warn: C.UTF-8 1']);
    expect(await h.wait()).toEqual({ exitCode: 0, signal: null, reason: 'succeeded' });
    expect(await h.status()).toEqual({ phase: 'succeeded', exitCode: 0 });
    expect(readFileSync(join(executor.workDir(jobId), 'conf/a.yaml'), 'utf8')).toBe('x: 1\n');
    // A late reader still gets everything.
    expect((await collect(h)).map((l) => l.text)).toEqual(lines.map((l) => l.text));
  });

  it('maps a non-zero exit to failed', async () => {
    const h = await executor.start(id(), nodeJob(`console.log('boom'); process.exit(3)`));
    expect(await h.wait()).toEqual({ exitCode: 3, signal: null, reason: 'failed', message: 'exited with status 3' });
    expect((await h.status()).phase).toBe('failed');
  });

  it('the same job id attaches to the running job instead of starting it twice', async () => {
    const jobId = id();
    const a = await executor.start(jobId, nodeJob(`setTimeout(() => console.log('done'), 100)`));
    const b = await executor.start(jobId, nodeJob(`console.log('second')`));
    expect(b).toBe(a);
    expect((await collect(b)).map((l) => l.text)).toEqual(['done']);
  });

  it('cancel kills the whole process group, grandchild included', async () => {
    const h = await executor.start(id(), grandchildJob(IDLE, `'ignore'`, `console.log('pids ' + process.pid + ' ' + g.pid); ${IDLE};`));
    const m = await waitForLine(h, /^pids (\d+) (\d+)$/);
    const [leader, grandchild] = [Number(m[1]), Number(m[2])];
    expect(alive(leader) && alive(grandchild)).toBe(true);
    expect((await h.status()).phase).toBe('running');
    await h.cancel('user asked');
    const r = await h.wait();
    expect(r).toMatchObject({ reason: 'cancelled', signal: 'SIGTERM', exitCode: null, message: 'user asked' });
    expect(alive(leader)).toBe(false);
    expect(alive(grandchild)).toBe(false);
    expect((await h.status()).phase).toBe('cancelled');
  });

  it('a grandchild that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const grandchildCode = `process.on('SIGTERM', () => {}); console.log('ready'); ${IDLE}`;
    const h = await executor.start(id(), grandchildJob(grandchildCode, `['ignore', 'inherit', 'inherit']`, `console.log('grandchild ' + g.pid); ${IDLE};`));
    const grandchild = Number((await waitForLine(h, /^grandchild (\d+)$/))[1]);
    await waitForLine(h, /^ready$/);
    const t0 = Date.now();
    await h.cancel();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(alive(grandchild)).toBe(false);
    expect((await h.wait()).reason).toBe('cancelled');
  });

  it('processes left behind by a finished job are stopped', async () => {
    const h = await executor.start(id(), grandchildJob(IDLE, `'ignore'`, `g.unref(); console.log('left ' + g.pid);`));
    const left = Number((await waitForLine(h, /^left (\d+)$/))[1]);
    expect(await h.wait()).toMatchObject({ reason: 'succeeded', exitCode: 0 });
    expect(alive(left)).toBe(false);
  });

  it('times out', async () => {
    const h = await executor.start(id(), nodeJob(IDLE), { timeoutMs: 200 });
    expect(await h.wait()).toMatchObject({ reason: 'timeout', message: 'ran longer than 200 ms' });
  });

  it('close() stops every running job', async () => {
    const own = new LocalExecutor({ workRoot: root, baseEnv: { PATH: process.env.PATH }, killGraceMs: 400 });
    const a = await own.start(id(), nodeJob(IDLE));
    const b = await own.start(id(), nodeJob(`console.log('quick')`));
    await b.wait();
    await own.close('worker shutting down');
    expect(await a.wait()).toMatchObject({ reason: 'cancelled', message: 'worker shutting down' });
    expect((await b.wait()).reason).toBe('succeeded');
  });

  it('refuses what it cannot run', async () => {
    const e = await rejection(executor.start(id(), nodeJob('', { argv: ['/nonexistent/trainer'] })));
    expect(e.code).toBe('SPAWN_FAILED');
    expect(e.message).toMatch(/cannot start "\/nonexistent\/trainer"/);
    const multi = await rejection(executor.start(id(), nodeJob('', { resources: { gpus: 16, gpuType: 'L40S', nodes: 2, gpusPerNode: 8 } })));
    expect(multi.code).toBe('UNSUPPORTED');
    expect((await rejection(executor.start(id(), nodeJob('', { files: [{ path: '../escape', content: '' }] })))).code).toBe('OUTSIDE_ROOT');
    expect((await rejection(executor.start('bad/id', nodeJob('')))).field).toBe('jobId');
  });
});

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

describe('local serve jobs', () => {
  const server = (port: number) => `const http = require('http');
    let healthy = false;
    setTimeout(() => { healthy = true; console.log('healthy'); }, 300);
    http.createServer((req, res) => { res.statusCode = req.url === '/health' && healthy ? 200 : 503; res.end(); })
      .listen(${port}, '127.0.0.1', () => console.log('listening'));`;

  it('is ready when /health answers 200; cancel stops it', async () => {
    const port = await freePort();
    const h = await executor.start(id(), nodeJob(server(port), { kind: 'serve', service: { port, healthPath: '/health', servedName: 'm' } }));
    expect(await h.ready({ timeoutMs: 10_000 })).toEqual({ url: `http://127.0.0.1:${port}` });
    expect((await h.status()).phase).toBe('ready');
    await h.cancel();
    expect(await h.wait()).toMatchObject({ reason: 'stopped' });
    expect((await h.status()).phase).toBe('stopped');
  });

  it('ready() rejects when the server exits first', async () => {
    const port = await freePort();
    const h = await executor.start(id(), nodeJob(`console.error('CUDA out of memory'); process.exit(1)`, { kind: 'serve', service: { port, healthPath: '/health', servedName: 'm' } }));
    const e = await rejection(h.ready({ timeoutMs: 10_000 }));
    expect(e.code).toBe('NOT_READY');
    expect(e.message).toMatch(/ended \(failed: exited with status 1\)/);
  });

  it('ready() is for serve jobs only', async () => {
    const h = await executor.start(id(), nodeJob(''));
    expect((await rejection(h.ready())).code).toBe('UNSUPPORTED');
    await sleep(0);
  });
});

describe('a job run again after its worker died', () => {
  it('stops the process group the dead worker left running before the job starts again, and only that one', async () => {
    const jobId = id();
    // A worker that dies outright never ends its jobs: here, an executor that is simply dropped.
    const dead = new LocalExecutor({ workRoot: root, baseEnv: { PATH: process.env.PATH }, killGraceMs: 400 });
    const first = await dead.start(jobId, nodeJob(`console.log('first'); setInterval(() => {}, 1000)`));
    for await (const l of first.logs()) {
      expect(l.text).toBe('first');
      break;
    }
    const pgid = (JSON.parse(readFileSync(join(root, jobId, '.ctxlab-group.json'), 'utf8')) as { pgid: number }).pgid;
    expect(await processGroupAlive(pgid)).toBe(true);
    // An unrelated long-running process must never be touched: it is not the recorded one.
    const bystander = await executor.start(id(), nodeJob(`setInterval(() => {}, 1000)`));

    const fresh = new LocalExecutor({ workRoot: root, baseEnv: { PATH: process.env.PATH }, killGraceMs: 400 });
    const again = await fresh.start(jobId, nodeJob(`console.log('second')`));
    expect(await processGroupAlive(pgid)).toBe(false);
    expect(await first.wait()).toMatchObject({ reason: 'failed', signal: 'SIGTERM' });
    const text = (await collect(again)).map((l) => l.text);
    expect(text).toEqual([`[ctxlab] stopped process group ${pgid}, left running by an earlier run of this job (its worker stopped without ending it)`, 'second']);
    expect(await bystander.status()).toMatchObject({ phase: 'running' });
    await bystander.cancel();
  });
});

describe('local GPU capacity', () => {
  const withGpus = (gpus: Record<string, number>) => new LocalExecutor({ workRoot: root, baseEnv: {}, gpus });

  it('reports one single-machine pool per configured type with GPUs, sorted by type, none used by others', async () => {
    const e = withGpus({ 'l40s-48gb': 1, 'a100-80gb': 2, 'h100-sxm-80gb': 0 });
    expect(await e.capacity()).toEqual([
      { gpuType: 'a100-80gb', gpus: 2, nodes: 1, foreignUsed: 0 },
      { gpuType: 'l40s-48gb', gpus: 1, nodes: 1, foreignUsed: 0 },
    ]);
    expect(await executor.capacity()).toEqual([]);
  });

  it('refuses a count that is not a whole number of GPUs, or a type without a usable name', () => {
    for (const [gpus, named] of [
      [{ 'a100-80gb': -1 }, '"a100-80gb": -1'],
      [{ 'a100-80gb': 1.5 }, '"a100-80gb": 1.5'],
      [{ 'a100-80gb': Number.NaN }, '"a100-80gb": null'],
      [{ '': 2 }, '"": 2'],
      [{ 'a100 80gb': 2 }, '"a100 80gb": 2'],
    ] as const) {
      const e = thrown(() => withGpus(gpus));
      expect(e.code).toBe('INVALID_SPEC');
      expect(e.field).toBe('gpus');
      expect(e.message).toContain(`GPU inventory entry ${named}`);
    }
  });

  it('parses the worker inventory format, spaces and a trailing comma allowed', () => {
    expect(parseGpuInventory('a100-80gb=2,l40s-48gb=1')).toEqual({ 'a100-80gb': 2, 'l40s-48gb': 1 });
    expect(parseGpuInventory(' a100-80gb = 2 , l40s-48gb=0, ')).toEqual({ 'a100-80gb': 2, 'l40s-48gb': 0 });
    expect(parseGpuInventory('')).toEqual({});
    expect(parseGpuInventory('  ')).toEqual({});
    expect(Object.getPrototypeOf(parseGpuInventory('__proto__=1'))).toBe(Object.prototype);
  });

  it('names the inventory entry that is wrong', () => {
    const cases: [string, string][] = [
      ['a100-80gb=2,a100-80gb=1', 'GPU inventory entry "a100-80gb=1": GPU type "a100-80gb" is listed twice'],
      ['a100-80gb=two', 'GPU inventory entry "a100-80gb=two": the count must be a whole number, 0 or more'],
      ['a100-80gb=-1', 'GPU inventory entry "a100-80gb=-1": the count must be a whole number, 0 or more'],
      ['a100-80gb=1.5', 'GPU inventory entry "a100-80gb=1.5": the count must be a whole number, 0 or more'],
      ['a100-80gb=', 'GPU inventory entry "a100-80gb=": the count must be a whole number, 0 or more'],
      ['l40s-48gb=1,a100-80gb', 'GPU inventory entry "a100-80gb" is not type=count (e.g. "a100-80gb=2")'],
      ['=2', 'GPU inventory entry "=2": the GPU type must be a non-empty name without spaces, "=" or ","'],
      ['a100 80gb=2', 'GPU inventory entry "a100 80gb=2": the GPU type must be a non-empty name without spaces, "=" or ","'],
    ];
    for (const [text, message] of cases) {
      const e = thrown(() => parseGpuInventory(text));
      expect(e.code).toBe('INVALID_SPEC');
      expect(e.message).toBe(message);
    }
  });
});
