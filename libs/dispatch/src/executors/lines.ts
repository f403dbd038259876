import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from './types';

const MAX_LINE = 64 * 1024;

/**
 * Splits a byte stream into lines: "\n", "\r\n" and a lone "\r" (progress bars redraw with it) all
 * end a line; UTF-8 characters split across chunks are kept whole; over-long lines are cut.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private pendingCr = false;

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: string[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue;
      }
      if (c === '\n' || c === '\r') {
        out.push(this.partial);
        this.partial = '';
        this.pendingCr = c === '\r';
      } else {
        this.partial += c;
        if (this.partial.length >= MAX_LINE) {
          out.push(this.partial);
          this.partial = '';
        }
      }
    }
    return out;
  }

  /** The unterminated last line, if any. */
  end(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest ? [rest] : [];
  }
}

/**
 * The log lines of one job in memory: every reader gets everything from the start (or from the
 * oldest line still kept) and then follows until the job ends.
 */
export class LogBuffer {
  private lines: LogLine[] = [];
  /** Absolute index of lines[0]. */
  private base = 0;
  private closed = false;
  private waiters = new Set<() => void>();

  constructor(private readonly maxLines = 100_000) {}

  push(line: LogLine): void {
    if (this.closed) return;
    this.lines.push(line);
    if (this.lines.length > this.maxLines) {
      const drop = this.lines.length - this.maxLines;
      this.lines.splice(0, drop);
      this.base += drop;
    }
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  async *follow(signal?: AbortSignal): AsyncGenerator<LogLine> {
    let next = 0;
    while (!signal?.aborted) {
      if (next < this.base) {
        yield { stream: 'stdout', text: `[ctxlab: ${this.base - next} earlier log lines were dropped]` };
        next = this.base;
      }
      while (next < this.base + this.lines.length) {
        yield this.lines[next - this.base]!;
        next++;
        if (signal?.aborted) return;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
