import { z } from 'zod';
import { idSchema, nameSchema, tagsSchema, text } from './common';

/**
 * A model's license as the Hugging Face card metadata names it: an SPDX-like id the Hub knows
 * (`apache-2.0`, `mit`, `llama3`, `llama3.1`, `gemma`, `cc-by-nc-4.0` …) or `other`, lower case.
 */
export const licenseSchema = text()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9.+-]*$/, 'must be a license id such as apache-2.0, mit, llama3 or other (lower case, as on the Hugging Face Hub)');

/** How a model is published to be served (e.g. 360Zhinao's vLLM launch): read by its card and serve forms. */
export const modelServingSchema = z.object({
  gpuType: text().trim().min(1).max(100),
  tensorParallelSize: z.number().int().min(1).max(64),
  gpuMemoryUtilization: z.number().gt(0).max(1).optional(),
  maxModelLen: z.number().int().positive().optional(),
  maxNumBatchedTokens: z.number().int().positive().optional(),
  maxNumSeqs: z.number().int().positive().optional(),
  enableChunkedPrefill: z.boolean().optional(),
  enforceEager: z.boolean().optional(),
  trustRemoteCode: z.boolean().optional(),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name'), text().max(500)).optional(),
  note: text().max(2000).optional(),
});
export type ModelServing = z.infer<typeof modelServingSchema>;

/** File names a Hugging Face model or adapter directory is read through (no folders: the Hub's top level). */
const hubFileName = text()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a file name from the model directory (letters, digits, ".", "_", "-")');

/** The files of a Hub repository an import reads whole (weights: only their headers). */
export const isHubTextFile = (name: string) => /^(?:[\w.-]+\.json|README\.md|chat_template\.jinja)$/.test(name);

const MiB = 1024 * 1024;
/** tokenizer.json files are up to ~20 MB (Gemma's is 17 MB); config files are kilobytes. */
export const MAX_HUB_TEXT_BYTES = 32 * MiB;
/** A safetensors header is at most 100 MB by the format; real ones are well under 1 MB. */
export const MAX_SAFETENSORS_HEADER_BYTES = 16 * MiB;

/**
 * A model or adapter directory as a caller sends it: the JSON files whole, and of each
 * .safetensors file only its first bytes (the 8-byte length and the JSON header) and its size;
 * weights never travel.
 */
export const hubImportInput = z.object({
  files: z
    .array(z.object({ name: hubFileName, text: text().max(MAX_HUB_TEXT_BYTES, `must be at most ${MAX_HUB_TEXT_BYTES / MiB} MiB`) }))
    .min(1, 'send at least config.json (a model) or adapter_config.json (an adapter)')
    .max(32),
  safetensors: z
    .array(
      z.object({
        name: hubFileName.refine((n) => n.endsWith('.safetensors'), 'must end in .safetensors'),
        size: z.number().int().nonnegative(),
        head: z.base64('must be base64').max(Math.ceil((MAX_SAFETENSORS_HEADER_BYTES * 4) / 3) + 4, `must be at most ${MAX_SAFETENSORS_HEADER_BYTES / MiB} MiB`),
      }),
    )
    .max(256)
    .default([]),
  /** Registry name; default: the Hub name's last part (`_name_or_path`). */
  name: nameSchema.optional(),
  description: text().max(10_000).optional(),
  family: text().trim().max(100).optional(),
  license: licenseSchema.optional(),
  tags: tagsSchema,
  /** Where the weights are (hf://org/name, file:///…, s3://…); recorded, never read. */
  sourceUri: text().trim().max(2000).optional(),
  /** A registered tokenizer name, for a model sent without tokenizer.json. */
  tokenizer: text().trim().min(1).max(2000).optional(),
  /** Adapters: the registry model it is an adapter of, when adapter_config.json's base model is not a registry name. */
  baseModelId: idSchema.optional(),
  /** Parse and report without writing anything. */
  dryRun: z.boolean().default(false),
});
export type HubImportInput = z.infer<typeof hubImportInput>;
