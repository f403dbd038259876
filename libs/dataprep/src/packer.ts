export type PackingMode = 'pack' | 'chunk';

/** One finished record. `ids` and `mask` are the packer's buffers: use them before the sink returns. */
export interface PackedRecord {
  ids: Uint32Array;
  /** 1 where the loss applies; null when the packer keeps no mask. */
  mask: Uint8Array | null;
  /** Which source each run of tokens came from, in order. */
  segments: readonly { source: number; tokens: number }[];
}

export interface PackerOptions {
  recordTokens: number;
  mode: PackingMode;
  withMask: boolean;
  /** Receives each full record; the packer waits for it (backpressure). */
  sink: (record: PackedRecord) => Promise<void> | void;
}

/**
 * Cuts a token stream into records of exactly `recordTokens`.
 *  - pack: documents follow each other across record boundaries; only the final partial record
 *    is dropped (as Fu et al.'s packer does).
 *  - chunk: each document is cut on its own; its remainder (and a document shorter than a record)
 *    is dropped, never padded: EasyContext's loss has no mask, so padding would be trained on.
 * Callers add the separators (BOS … EOS) themselves; the packer sees only tokens.
 */
export class Packer {
  private readonly ids: Uint32Array;
  private readonly mask: Uint8Array | null;
  private fill = 0;
  private segments: { source: number; tokens: number }[] = [];
  /** Tokens per source that landed in a written record, and that were dropped. */
  readonly written = new Map<number, number>();
  readonly dropped = new Map<number, number>();
  records = 0;

  constructor(private readonly opts: PackerOptions) {
    this.ids = new Uint32Array(opts.recordTokens);
    this.mask = opts.withMask ? new Uint8Array(opts.recordTokens) : null;
  }

  /** Appends tokens of `source`; `mask` (same length) or, when absent, `maskValue` for all. */
  async push(source: number, ids: ArrayLike<number>, mask?: ArrayLike<number>, maskValue = 1): Promise<void> {
    const n = ids.length;
    let i = 0;
    while (i < n) {
      const take = Math.min(n - i, this.ids.length - this.fill);
      const at = this.fill;
      for (let k = 0; k < take; k++) this.ids[at + k] = ids[i + k]!;
      if (this.mask) {
        if (mask) for (let k = 0; k < take; k++) this.mask[at + k] = mask[i + k]!;
        else this.mask.fill(maskValue, at, at + take);
      }
      this.addSegment(source, take);
      this.fill += take;
      i += take;
      if (this.fill === this.ids.length) await this.emit();
    }
  }

  /** Marks a document's end: in chunk mode its unfinished record is dropped. */
  endDocument(): void {
    if (this.opts.mode === 'chunk') this.dropPartial();
  }

  /** Drops the last, partial record (pack mode's tail). */
  finish(): void {
    this.dropPartial();
  }

  private addSegment(source: number, tokens: number): void {
    const last = this.segments[this.segments.length - 1];
    if (last && last.source === source) last.tokens += tokens;
    else this.segments.push({ source, tokens });
  }

  private async emit(): Promise<void> {
    for (const s of this.segments) this.written.set(s.source, (this.written.get(s.source) ?? 0) + s.tokens);
    const record: PackedRecord = { ids: this.ids, mask: this.mask, segments: this.segments };
    this.records++;
    this.fill = 0;
    this.segments = [];
    await this.opts.sink(record);
  }

  private dropPartial(): void {
    for (const s of this.segments) this.dropped.set(s.source, (this.dropped.get(s.source) ?? 0) + s.tokens);
    this.fill = 0;
    this.segments = [];
  }
}
