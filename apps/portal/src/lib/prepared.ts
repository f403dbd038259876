// Plain data and functions, no 'use client': the dataset page reads a prepared dataset's stats, the forms a job's result.
import { z } from 'zod';
import { SERIES_COLORS } from './links';

/**
 * What the dataset-prepare job records on the dataset it registers (libs/jobs' processor, with
 * libs/dataprep's stats): the registry stores it as JSON, so the page checks it before drawing it.
 */
const count = z.number().int().min(0);

const lengthBucketSchema = z.object({ label: z.string(), minTokens: count, maxTokens: count.nullable(), documents: count, tokens: count });

const sourceStatsSchema = z.object({
  datasetId: z.string(),
  kind: z.string(),
  ratio: z.number().nullable(),
  documents: count,
  documentsKept: count,
  tokensIn: count,
  tokensOut: count,
  tokensDropped: count,
  epochs: count,
  lengthHistogram: z.array(lengthBucketSchema).default([]),
});

export const preparedStatsSchema = z.object({
  format: z.string(),
  tokenizer: z.string(),
  seqLength: count,
  packing: z.string(),
  lossMask: z.boolean(),
  seed: z.number(),
  maxTokens: count.nullable(),
  tokens: count,
  sequences: count,
  documents: count,
  tokensDropped: count,
  stoppedBy: z.union([z.enum(['sources-read', 'max-tokens']), z.object({ exhausted: z.string() })]),
  perSource: z.record(z.string(), sourceStatsSchema),
  shards: z.array(z.object({ path: z.string(), sha256: z.string(), bytes: count, sequences: count, tokens: count })),
  recipe: z.object({ recipeId: z.string(), name: z.string(), version: z.number().int(), stage: z.number().int() }).optional(),
});
export type PreparedStats = z.infer<typeof preparedStatsSchema>;
export type SourceStats = z.infer<typeof sourceStatsSchema>;

/** The stats, or what is wrong with them (a record written by another version of the worker). */
export function readPrepared(raw: unknown): { stats: PreparedStats } | { problem: string } {
  const r = preparedStatsSchema.safeParse(raw);
  return r.success ? { stats: r.data } : { problem: r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'stats'}: ${i.message}`).join('; ') };
}

/** Why the job stopped writing, in words. */
export function stoppedByText(s: PreparedStats['stoppedBy'], maxTokens: number | null): string {
  if (s === 'sources-read') return 'every source read to its end';
  if (s === 'max-tokens') return `the token budget${maxTokens === null ? '' : ` (${maxTokens.toLocaleString('en-US')} tokens)`} was reached`;
  return `source ${s.exhausted} ran out`;
}

/** A share of 0–1 as a percentage; null: the source was read as it comes, with no share asked. */
export const fmtShare = (r: number | null | undefined): string => (r === null || r === undefined || !Number.isFinite(r) ? '—' : `${(r * 100).toFixed(1)}%`);

/** What a succeeded dataset-prepare job returns. */
const prepareResultSchema = z.object({ datasetId: z.string(), uri: z.string(), tokens: count, sequences: count, shards: count, bytes: count });
export type PrepareResult = z.infer<typeof prepareResultSchema>;

export function readPrepareResult(raw: unknown): PrepareResult | null {
  const r = prepareResultSchema.safeParse(raw);
  return r.success ? r.data : null;
}

/** Eight distinguishable colours for a mix's sources, in order (repeating after eight): the compared runs' four first. */
const SOURCE_COLORS = [...SERIES_COLORS, '#b91c5c', '#0e7490', '#a16207', '#4b5563'];
export const sourceColor = (i: number): string => SOURCE_COLORS[i % SOURCE_COLORS.length]!;
