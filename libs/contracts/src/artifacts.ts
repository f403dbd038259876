import { z } from 'zod';
import { idSchema, text } from './common';

/** A download link to a stored artifact (a dataset's shards, an adapter's weights), or one file of it. */
export const artifactLinkInput = z.object({
  id: idSchema,
  /** A file of a directory artifact, by its path in the artifact's manifest (e.g. data/shard-00000.jsonl); absent: the artifact itself (a file) or its manifest. */
  file: text().trim().min(1).max(1000).optional(),
  /** How long the link lives: 60 s to 7 days (default 15 minutes). */
  expiresInSeconds: z.number().int().min(60, 'at least 60 seconds').max(7 * 24 * 3600, 'at most 7 days').optional(),
});
export type ArtifactLinkInput = z.infer<typeof artifactLinkInput>;

/** An eval run's cells written to the artifact store (file:// or s3://), with their digest. */
export const evalExportInput = z.object({
  id: idSchema,
  format: z.enum(['csv', 'jsonl']).default('csv'),
  /** Where to write; default exports/<run>-<id>.<format> in the default artifact store. */
  output: text().trim().min(1).max(2000).optional(),
});
export type EvalExportInput = z.infer<typeof evalExportInput>;
