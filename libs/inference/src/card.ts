import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';

/** The parts of a lab model's card (libs/inference/models/lab-model.json) the engine relies on. */
export const labModelCardSchema = z.object({
  name: z.string(),
  numLayers: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  numAttentionHeads: z.number().int().positive(),
  intermediateSize: z.number().int().positive(),
  tieWordEmbeddings: z.boolean(),
  numKeyValueHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  specialTokens: z.object({ bos: z.number().int(), eos: z.number().int(), pad: z.number().int() }),
  stages: z
    .array(
      z.object({
        stage: z.number().int(),
        file: z.string(),
        ropeTheta: z.number().positive(),
        maxPositionEmbeddings: z.number().int().positive(),
        initialisedFrom: z.string().optional(),
        ropeThetaRule: z.string().optional(),
      }),
    )
    .min(1),
});
export type LabModelCard = z.infer<typeof labModelCardSchema>;

export const DEFAULT_MODELS_DIR = resolve(import.meta.dirname, '../models');

export function loadCard(path = join(DEFAULT_MODELS_DIR, 'lab-model.json')): LabModelCard & { dir: string } {
  const r = labModelCardSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!r.success) throw new Error(`${path}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { ...r.data, dir: dirname(path) };
}
