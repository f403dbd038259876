/**
 * The npm step of run.sh (npm-deps.sh), run by bash in a scratch directory with a stand-in `npm`
 * on PATH that records each install and, when told to, rewrites the lockfile the way an npm
 * install of an out-of-date lockfile does. Plus the committed lockfile itself: complete.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const script = join(root, 'tools/bootstrap/npm-deps.sh');
const scratch: string[] = [];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

function checkout() {
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-npm-deps-'));
  scratch.push(dir);
  writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion": 3, "packages": {}}\n');
  writeFileSync(
    join(dir, 'npm'),
    `#!/bin/sh
echo "$*" >> npm-calls
mkdir -p node_modules
if [ -n "$NPM_FAILS" ]; then echo "npm ERR! network" >&2; exit 1; fi
if [ -n "$REWRITE_LOCK" ]; then echo '{"lockfileVersion": 3, "packages": {"node_modules/x-darwin-arm64": {}}}' > package-lock.json; fi
`,
  );
  chmodSync(join(dir, 'npm'), 0o755);
  // One command as run.sh runs it: `npm start`, `npm run bench` …
  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', `log() { echo "ctxlab $*" >&2; }; . '${script}'; ensure_npm_deps || exit 1; echo done >&2`], {
      cwd: dir,
      encoding: 'utf8',
      // CI comes only from the case: a CI=true of the machine running the tests must not leak in.
      env: { ...process.env, CI: undefined, PATH: `${dir}:${process.env.PATH}`, ...env },
    });
    return { code: r.status, stderr: r.stderr };
  };
  const installs = () => (existsSync(join(dir, 'npm-calls')) ? readFileSync(join(dir, 'npm-calls'), 'utf8').trim().split('\n') : []);
  return { dir, run, installs };
}

describe('ensure_npm_deps (run.sh step 3)', () => {
  it('installs on the first command and not again while the lockfile is unchanged', () => {
    const c = checkout();
    expect(c.run().code).toBe(0);
    expect(c.run().code).toBe(0);
    expect(c.installs()).toEqual(['install --no-audit --no-fund --loglevel=error']);
  });

  it('says so when the install rewrites the lockfile, and the next command does not install again', () => {
    const c = checkout();
    const first = c.run({ REWRITE_LOCK: '1' });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/npm install changed package-lock\.json.*\n.*Fix: commit the updated package-lock\.json/);
    // `npm start` then `npm run bench`: the second command finds the lockfile as the install left it.
    const second = c.run();
    expect(second.code).toBe(0);
    expect(second.stderr).not.toMatch(/changed package-lock/);
    expect(c.installs()).toHaveLength(1);
  });

  it('fails under CI=true when the install rewrites the lockfile', () => {
    const c = checkout();
    const r = c.run({ REWRITE_LOCK: '1', CI: 'true' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Fix: commit the updated package-lock\.json/);
    expect(r.stderr).toMatch(/failing, as CI must install exactly the committed lockfile/);
    expect(c.installs()).toHaveLength(1);
  });

  it('fails when the install fails, and tries again on the next command', () => {
    const c = checkout();
    const r = c.run({ NPM_FAILS: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/done/);
    expect(c.run().code).toBe(0);
    expect(c.installs()).toHaveLength(2);
  });
});

describe('the committed package-lock.json', () => {
  // npm records every dependency it resolves, the optional packages of other platforms included
  // (@next/swc-darwin-arm64 …); one it lacks is added by the next `npm install`, dirtying the tree.
  it('resolves every dependency and optional dependency of every package it lists', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { link?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
    };
    const resolves = (from: string, name: string) => {
      // Node's lookup: <from>/node_modules/<name>, then each enclosing node_modules, then the root.
      for (let base = from; ; ) {
        if (lock.packages[`${base ? `${base}/` : ''}node_modules/${name}`]) return true;
        if (base === '') return false;
        const i = base.lastIndexOf('/node_modules/');
        base = i < 0 ? '' : base.slice(0, i);
      }
    };
    const missing = Object.entries(lock.packages)
      .filter(([, p]) => !p.link)
      .flatMap(([key, p]) => Object.keys({ ...p.dependencies, ...p.optionalDependencies }).filter((d) => !resolves(key, d)).map((d) => `${key || '(root)'} -> ${d}`));
    expect(missing).toEqual([]);
  });
});
