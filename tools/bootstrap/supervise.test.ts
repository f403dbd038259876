import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs, Supervisor, type SupervisorEvent } from './supervise';

const dir = mkdtempSync(join(tmpdir(), 'ctxlab-supervise-'));
// Counts its runs in the file it is given, says which run it is, and exits with code 3.
const crasher = join(dir, 'crasher.mjs');
writeFileSync(
  crasher,
  `import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const f = process.argv[2];
const n = existsSync(f) ? Number(readFileSync(f, 'utf8')) + 1 : 1;
writeFileSync(f, String(n));
console.log('run ' + n);
process.exit(3);
`,
);
/** Running (a zombie waiting to be reaped has ended: state Z). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const steady = ['-e', 'setInterval(() => undefined, 1 << 30)'];

const supervisors: Supervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop(2_000)));
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function supervise(opts: ConstructorParameters<typeof Supervisor>[0] = {}) {
  const logs: string[] = [];
  const events: SupervisorEvent[] = [];
  const s = new Supervisor({ log: (m) => logs.push(m), onLine: (name, line) => logs.push(`${name}| ${line}`), ...opts });
  s.on((e) => events.push(e));
  supervisors.push(s);
  const until = (pred: (e: SupervisorEvent) => boolean) =>
    new Promise<SupervisorEvent>((resolve) => {
      const hit = events.find(pred);
      if (hit) resolve(hit);
      else s.on((e) => pred(e) && resolve(e));
    });
  return { s, logs, events, until };
}

describe('backoffMs', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});

describe('Supervisor', () => {
  it('restarts a crashing process with growing back-off, gives up after maxCrashes, and leaves the others running', async () => {
    const { s, logs, events, until } = supervise({ initialBackoffMs: 20, maxBackoffMs: 50, stableAfterMs: 60_000, maxCrashes: 4 });
    s.start({ name: 'steady', command: process.execPath, args: steady });
    s.start({ name: 'worker', command: process.execPath, args: [crasher, join(dir, 'runs-a')] });
    await until((e) => e.type === 'gave-up');

    const mine = events.filter((e) => e.name === 'worker');
    expect(mine.filter((e) => e.type === 'spawn')).toHaveLength(4);
    expect(mine.filter((e) => e.type === 'exit').map((e) => e.type === 'exit' && e.code)).toEqual([3, 3, 3, 3]);
    expect(mine.flatMap((e) => (e.type === 'restart' ? [e.delayMs] : []))).toEqual([20, 40, 50]);
    expect(mine.at(-1)).toEqual({ type: 'gave-up', name: 'worker', crashes: 4 });
    expect(logs.some((l) => /^worker exited with code 3 after .* restarting it in 0\.0 s \(crash 1 of at most 4 in a row\)/.test(l))).toBe(true);
    expect(logs.some((l) => /^worker exited with code 3 .*crashed 4 times in a row.*not restarted again.*Everything else keeps running/.test(l))).toBe(true);

    // The other process was never touched.
    expect(events.filter((e) => e.name === 'steady').map((e) => e.type)).toEqual(['spawn']);
    expect(s.children).toHaveLength(1);
    expect(s.children[0]?.exitCode).toBeNull();

    await s.stop(2_000);
    expect(events.filter((e) => e.name === 'steady').map((e) => e.type)).toEqual(['spawn', 'exit']);
    expect(events.find((e) => e.name === 'steady' && e.type === 'exit')).toMatchObject({ signal: 'SIGTERM' });
    expect(events.filter((e) => e.name === 'steady' && e.type === 'restart')).toEqual([]);
  });

  it('starts the back-off over after a run that stayed up for stableAfterMs', async () => {
    // The clock jumps forward while run 3 is up, so run 3 counts as healthy whatever the machine's load.
    let offset = 0;
    const { s, events, until } = supervise({ initialBackoffMs: 10, maxBackoffMs: 1_000, stableAfterMs: 60_000, maxCrashes: 3, now: () => Date.now() + offset });
    s.on((e) => {
      if (e.type === 'spawn' && e.run === 3) offset += 60_000;
    });
    s.start({ name: 'portal', command: process.execPath, args: [crasher, join(dir, 'runs-b')] });
    await until((e) => e.type === 'gave-up');
    expect(events.flatMap((e) => (e.type === 'restart' ? [e.delayMs] : []))).toEqual([10, 20, 10, 20]);
    expect(events.filter((e) => e.type === 'spawn')).toHaveLength(5);
  });

  it('logs the signal that killed a process, and stop() cancels a pending restart', async () => {
    const { s, logs, events, until } = supervise({ initialBackoffMs: 60_000, stableAfterMs: 60_000 });
    s.start({ name: 'model-server', command: process.execPath, args: steady });
    const spawned = await until((e) => e.type === 'spawn');
    process.kill(spawned.type === 'spawn' ? spawned.pid! : 0, 'SIGKILL');
    await until((e) => e.type === 'restart');
    expect(logs.some((l) => l.startsWith('model-server was killed by SIGKILL after'))).toBe(true);
    await s.stop(2_000);
    expect(s.children).toEqual([]);
    expect(events.filter((e) => e.type === 'spawn')).toHaveLength(1);
  });

  it('counts a command that cannot be started as a crash, instead of waiting for an exit that never comes', async () => {
    const { s, logs, events, until } = supervise({ initialBackoffMs: 10, maxCrashes: 2 });
    s.start({ name: 'model-server', command: join(dir, 'no-such-program'), args: [] });
    await until((e) => e.type === 'gave-up');
    expect(events.filter((e) => e.type === 'spawn')).toHaveLength(2);
    expect(logs.some((l) => /^model-server: spawn .*no-such-program ENOENT/.test(l))).toBe(true);
    expect(logs.some((l) => l.startsWith('model-server could not be started after'))).toBe(true);
  });

  it('stop() ends the whole process group, so what a supervised process forked stops too', async () => {
    const { s, logs, until } = supervise();
    s.start({ name: 'portal', command: 'sh', args: ['-c', 'sleep 1000 & echo "child $!"; wait'] });
    await until((e) => e.type === 'spawn');
    let grandchild = 0;
    while (!grandchild) {
      grandchild = Number(logs.find((l) => l.startsWith('portal| child '))?.split(' ')[2] ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(alive(grandchild)).toBe(true);
    await s.stop(2_000);
    // The signal is delivered at once but acted on asynchronously: poll until it is gone (or 10 s).
    for (let i = 0; i < 500 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });
});
