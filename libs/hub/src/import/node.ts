import { isHubTextFile, MAX_HUB_TEXT_BYTES, MAX_SAFETENSORS_HEADER_BYTES } from '@ctxlab/contracts';
import { statSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubFiles } from './files';
import { HubImportError } from './issues';

const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR';

/**
 * A local directory as `HubFiles`, e.g. a `huggingface-cli download` target or a trainer's output.
 * Weight files are opened and read only over the byte ranges asked for, so importing a 140 GB
 * checkpoint reads a few megabytes of headers. Hidden entries (.git, .cache) are skipped.
 */
export function dirFiles(root: string): HubFiles {
  const path = (name: string) => join(root, ...name.split('/'));
  return {
    async list() {
      const out: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const e of await readdir(dir, { withFileTypes: true })) {
          if (e.name.startsWith('.')) continue;
          const full = join(dir, e.name);
          if (e.isDirectory()) await walk(full);
          // A Hub cache snapshot is a tree of symlinks into blobs/: follow them.
          else if (e.isFile() || (e.isSymbolicLink() && (await stat(full).catch(() => null))?.isFile())) out.push(relative(root, full).split(sep).join('/'));
        }
      };
      try {
        await walk(root);
      } catch (e) {
        if (!isMissing(e)) throw e;
        throw new HubImportError([{ file: root, field: '(directory)', message: `${root}: no such directory`, severity: 'error' }]);
      }
      return out.sort();
    },
    async readText(name) {
      try {
        return await readFile(path(name), 'utf8');
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
    async readRange(name, start, end) {
      let fh;
      try {
        fh = await open(path(name), 'r');
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
      try {
        const want = Math.max(0, end - start);
        const buf = new Uint8Array(want);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    },
    async size(name) {
      try {
        return (await stat(path(name))).size;
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
  };
}


/**
 * A directory (or file:// URI) as the import request carries it: its top-level JSON files, README.md
 * and chat template whole, and of each .safetensors file its size and header bytes only.
 */
export async function readHubDirectory(dir: string) {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dir) && !dir.startsWith('file://')) {
    throw new Error(`${dir}: only local folders and file:// URIs are read; for ${dir.split(':')[0]}:// download the folder first (e.g. huggingface-cli download, aws s3 sync) and import it from disk`);
  }
  const root = dir.startsWith('file://') ? fileURLToPath(dir) : resolve(dir);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir}: not a directory (models import takes a Hugging Face model or adapter folder)`);
  const src = dirFiles(root);
  const names = (await src.list()).filter((n) => !n.includes('/'));
  const files: { name: string; text: string }[] = [];
  const safetensors: { name: string; size: number; head: string }[] = [];
  for (const name of names) {
    if (isHubTextFile(name)) {
      const size = (await src.size?.(name)) ?? 0;
      if (size > MAX_HUB_TEXT_BYTES) throw new Error(`${name}: ${size.toLocaleString('en-US')} bytes is larger than the ${MAX_HUB_TEXT_BYTES / 1024 / 1024} MiB an imported text file may be`);
      files.push({ name, text: (await src.readText(name)) ?? '' });
    } else if (name.endsWith('.safetensors')) {
      const size = (await src.size?.(name)) ?? 0;
      const len = await src.readRange(name, 0, 8);
      if (!len || len.byteLength < 8) throw new Error(`${name}: shorter than the 8-byte safetensors header length (${size} bytes)`);
      const n = Number(new DataView(len.buffer, len.byteOffset, 8).getBigUint64(0, true));
      if (n > MAX_SAFETENSORS_HEADER_BYTES) throw new Error(`${name}: its header claims ${n.toLocaleString('en-US')} bytes, more than an imported safetensors header may be (${MAX_SAFETENSORS_HEADER_BYTES / 1024 / 1024} MiB): the file is not safetensors or is damaged`);
      const head = (await src.readRange(name, 0, 8 + n))!;
      safetensors.push({ name, size, head: Buffer.from(head).toString('base64') });
    }
  }
  // A Hugging Face cache snapshot (…/models--OWNER--NAME/snapshots/REV) says which Hub repository it is.
  const cached = /(?:^|\/)models--([^/]+?)--([^/]+)\/snapshots\/[^/]+\/?$/.exec(root.split(sep).join('/'));
  const name = cached ? cached[2]! : basename(root);
  return { root, name, ...(cached ? { sourceUri: `hf://${cached[1]}/${cached[2]}` } : {}), files, safetensors };
}
