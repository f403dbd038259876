/**
 * Whether the portal's production build matches its sources: `npm start` and the browser tests
 * both rebuild only when the hash of apps/portal, libs/ and the lockfile changed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const stamp = join(root, 'apps/portal/.next/ctxlab-build.sha');

export function portalSourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === '.next' || name === 'e2e' || name === 'bench' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  for (const d of ['apps/portal', 'libs']) walk(join(root, d));
  h.update(readFileSync(join(root, 'package-lock.json')));
  return h.digest('hex');
}

export function portalBuildIsCurrent(hash = portalSourceHash()): boolean {
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
}

export function markPortalBuilt(hash: string) {
  writeFileSync(stamp, hash);
}
