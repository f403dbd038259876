/** Document lengths in fixed log2 buckets: <1K, 1K–2K, 2K–4K, … 512K–1M, ≥1M tokens (K = 1024). */
export const LENGTH_BUCKETS = 12;

export interface LengthBucket {
  label: string;
  /** Inclusive lower bound in tokens. */
  minTokens: number;
  /** Exclusive upper bound; null for the last bucket. */
  maxTokens: number | null;
  documents: number;
  tokens: number;
}

const K = 1024;
const kLabel = (n: number) => (n >= K * K ? `${n / (K * K)}M` : `${n / K}K`);

export function lengthBucket(tokens: number): number {
  if (tokens < K) return 0;
  return Math.min(LENGTH_BUCKETS - 1, Math.floor(Math.log2(tokens / K)) + 1);
}

export function emptyHistogram(): LengthBucket[] {
  return Array.from({ length: LENGTH_BUCKETS }, (_, i) => {
    const minTokens = i === 0 ? 0 : K * 2 ** (i - 1);
    const maxTokens = i === LENGTH_BUCKETS - 1 ? null : K * 2 ** i;
    const label = i === 0 ? '<1K' : maxTokens === null ? `≥${kLabel(minTokens)}` : `${kLabel(minTokens)}–${kLabel(maxTokens)}`;
    return { label, minTokens, maxTokens, documents: 0, tokens: 0 };
  });
}

export interface SourceStats {
  /** Documents read (every epoch counted). */
  documents: number;
  /** Documents that passed the filters: the rest are empty, skipped by the up-sampling, or too long for longllm_qlora. */
  documentsKept: number;
  /** Tokens of every document read, separators included. */
  tokensIn: number;
  /** Tokens of this source in the written records. */
  tokensOut: number;
  /** Tokens of kept documents that no record holds (a chunk's remainder, the packed tail). */
  tokensDropped: number;
  /** Times the source was opened: more than 1 when maxTokens made it repeat. */
  epochs: number;
  /** Lengths of the documents read. */
  lengthHistogram: LengthBucket[];
}

export interface PrepareStats {
  /** Tokens in the written records. */
  tokens: number;
  /** Records written (EasyContext: sequences of seqLength + 1 tokens). */
  sequences: number;
  documents: number;
  tokensDropped: number;
  /** Why output ended: every source read, a source ran out (its name), or maxTokens reached. */
  stoppedBy: 'sources-read' | 'max-tokens' | { exhausted: string };
  perSource: Record<string, SourceStats>;
}

export function emptySourceStats(): SourceStats {
  return { documents: 0, documentsKept: 0, tokensIn: 0, tokensOut: 0, tokensDropped: 0, epochs: 0, lengthHistogram: emptyHistogram() };
}

/** Counts one document read, whatever became of it. */
export function countDocument(s: SourceStats, tokens: number, kept: boolean): void {
  s.documents++;
  if (kept) s.documentsKept++;
  s.tokensIn += tokens;
  const b = s.lengthHistogram[lengthBucket(tokens)]!;
  b.documents++;
  b.tokens += tokens;
}
