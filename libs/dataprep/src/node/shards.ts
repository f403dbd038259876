import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface ShardInfo {
  /** Relative to the output directory, with "/" (e.g. data/train-00000-of-00003.jsonl). */
  path: string;
  sha256: string;
  bytes: number;
  /** Records in the shard (EasyContext: sequences). */
  sequences: number;
  tokens: number;
}

interface OpenShard {
  fh: FileHandle;
  tmp: string;
  hash: Hash;
  bytes: number;
  sequences: number;
  tokens: number;
}

/** Bytes gathered before one write to disk. */
const WRITE_BATCH = 8 << 20;
const five = (n: number) => String(n).padStart(5, '0');

/**
 * A series of JSON Lines shards `data/<prefix>-NNNNN-of-MMMMM.jsonl`. Each shard is written to a
 * hidden temp file (`.prefix-NNNNN.jsonl.tmp`, which Hugging Face datasets' resolver ignores) and
 * renamed to its final name once the whole run has succeeded and the count is known; a record is
 * never split, and a shard is closed before it would pass maxBytes.
 */
export class ShardSeries {
  private current: OpenShard | null = null;
  private readonly done: (Omit<ShardInfo, 'path'> & { tmp: string })[] = [];
  private batch: Uint8Array[] = [];
  private batchBytes = 0;

  constructor(
    private readonly outDir: string,
    private readonly prefix: string,
    private readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.done.length + (this.current ? 1 : 0);
  }

  async write(line: Uint8Array | string, tokens: number): Promise<void> {
    const buf = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
    if (this.current && this.current.sequences > 0 && this.current.bytes + buf.length > this.maxBytes) await this.closeCurrent();
    const cur = this.current ?? (await this.openNext());
    cur.hash.update(buf);
    cur.bytes += buf.length;
    cur.sequences++;
    cur.tokens += tokens;
    this.batch.push(buf);
    this.batchBytes += buf.length;
    if (this.batchBytes >= WRITE_BATCH) await this.flush(cur);
  }

  /** Closes the last shard and gives every shard its final name. */
  async finalize(): Promise<ShardInfo[]> {
    await this.closeCurrent();
    const n = this.done.length;
    const out: ShardInfo[] = [];
    for (let i = 0; i < n; i++) {
      const { tmp, ...info } = this.done[i]!;
      const name = `${this.prefix}-${five(i)}-of-${five(n)}.jsonl`;
      await rename(tmp, join(this.outDir, 'data', name));
      out.push({ path: `data/${name}`, ...info });
    }
    this.done.length = 0;
    return out;
  }

  /** Removes every temp file of the series (after a failure or an abort). */
  async abort(): Promise<void> {
    const cur = this.current;
    this.current = null;
    this.batch = [];
    this.batchBytes = 0;
    if (cur) {
      await cur.fh.close().catch(() => undefined);
      await rm(cur.tmp, { force: true });
    }
    for (const d of this.done.splice(0)) await rm(d.tmp, { force: true });
  }

  private async openNext(): Promise<OpenShard> {
    const tmp = join(this.outDir, 'data', `.${this.prefix}-${five(this.done.length)}.jsonl.tmp`);
    const fh = await open(tmp, 'w');
    this.current = { fh, tmp, hash: createHash('sha256'), bytes: 0, sequences: 0, tokens: 0 };
    return this.current;
  }

  private async flush(cur: OpenShard): Promise<void> {
    if (this.batchBytes === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
    for (let off = 0; off < buf.length; ) off += (await cur.fh.write(buf, off, buf.length - off)).bytesWritten;
  }

  private async closeCurrent(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    await this.flush(cur);
    await cur.fh.sync();
    await cur.fh.close();
    this.current = null;
    this.done.push({ tmp: cur.tmp, sha256: cur.hash.digest('hex'), bytes: cur.bytes, sequences: cur.sequences, tokens: cur.tokens });
  }
}
