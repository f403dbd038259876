/**
 * Builds libs/niah/corpora/zh-tang-poems.txt, ctxlab's default Chinese haystack, from the
 * `chinese-poetry` npm package (MIT; the poems of 全唐詩 are centuries-old public-domain texts).
 * The package is 350 MB, so fresh clones use the committed extract instead of installing it.
 *
 *   npx tsx tools/corpora/build-zh.ts [--max-bytes 3000000]
 *
 * Output: poems in the package's order (poet.tang.0.json, poet.tang.1000.json, …), each as
 *   title\nauthor\nline\nline…   with one blank line between poems.
 * Poems with lacunae (□), empty lines or Latin letters are skipped so the haystack is clean
 * classical text whose sentences end in 。！？. Deterministic: the same package version gives
 * the same bytes (the README records the sha256).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

interface Poem {
  title: string;
  author: string;
  paragraphs: string[];
}

const args = process.argv.slice(2);
const maxBytesArg = args.indexOf('--max-bytes');
const maxBytes = maxBytesArg >= 0 ? Number(args[maxBytesArg + 1]) : 3_000_000;

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('chinese-poetry/package.json'));
const pkgVersion = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
const dir = join(pkgDir, 'dist/quantangshi');
const files = readdirSync(dir)
  .filter((f) => /^poet\.tang\.\d+\.json$/.test(f))
  .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));

const clean = (s: string) => s.replace(/\s+/g, '').trim();
const bad = /[□■○●\uFFFDA-Za-z0-9{}[\]<>|]/;

const docs: string[] = [];
let bytes = 0;
let skipped = 0;
outer: for (const f of files) {
  const poems = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Poem[];
  for (const p of poems) {
    const lines = p.paragraphs.map(clean);
    const title = p.title.trim();
    const author = p.author.trim();
    if (!title || !author || lines.length === 0 || lines.some((l) => !l || bad.test(l)) || bad.test(title)) {
      skipped++;
      continue;
    }
    const doc = `${title}\n${author}\n${lines.join('\n')}`;
    const size = Buffer.byteLength(doc) + 2;
    if (bytes + size > maxBytes) break outer;
    docs.push(doc);
    bytes += size;
  }
}

const text = docs.join('\n\n') + '\n';
const out = resolve(import.meta.dirname, '../../libs/niah/corpora/zh-tang-poems.txt');
writeFileSync(out, text);
const sha = createHash('sha256').update(text).digest('hex');
console.log(
  JSON.stringify({ out, source: `chinese-poetry@${pkgVersion}`, poems: docs.length, skipped, bytes: Buffer.byteLength(text), chars: text.length, sha256: sha }, null, 2),
);
