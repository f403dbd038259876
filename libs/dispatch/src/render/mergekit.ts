import { posix } from 'node:path';
import { DispatchError } from '../errors';
import type { LoraExtractSpec, LoraMergeSpec } from '../specs';
import { defaultUriResolver } from '../uri';
import { num, sequence, toYaml, type YamlValue } from './format';
import type { RenderOptions, RenderedJob } from './types';

export const MERGE_CONFIG_FILE = 'merge.yml';
export const PATCH_CONFIG_FILE = 'patch_config.py';
export const DEFAULT_LORA_MERGE_CACHE = 'lora-merge-cache';

/**
 * `mergekit-extract-lora --model FINETUNED --base-model BASE --out-path OUT --max-rank R` (mergekit
 * 0.1.x). The adapter's rank per module is at most R (lower where the delta's rank is lower).
 */
export function renderLoraExtract(spec: LoraExtractSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  const argv = [
    'mergekit-extract-lora',
    '--model', resolve(spec.finetuned, 'finetuned'),
    '--base-model', resolve(spec.base, 'base'),
    '--out-path', resolve(spec.output, 'output'),
    '--max-rank', num(spec.maxRank),
    ...(spec.embedLora ? ['--embed-lora'] : []),
    ...spec.saveModules.flatMap((m) => ['--save-module', m]),
    ...(spec.cuda ? ['--cuda'] : []),
  ];
  return {
    kind: 'lora-extract',
    argv,
    env: {},
    files: [],
    steps: [argv],
    resources: { gpus: spec.cuda ? 1 : 0, gpuType: spec.cuda ? (spec.gpuType ?? null) : null, nodes: 1, gpusPerNode: spec.cuda ? 1 : 0 },
    outputs: [spec.output],
    tool: { id: 'mergekit', name: 'mergekit', version: spec.mergekitVersion },
  };
}

/**
 * The config patch that follows a merge: a LoRA carries weight deltas only, so the merged model's
 * config.json still has the target's RoPE base and context length. Writes rope_theta,
 * max_position_embeddings and rope_scaling, atomically, and prints what it changed.
 */
export const PATCH_CONFIG_SCRIPT = `"""Written by ctxlab: give a merged model the long-context RoPE fields of the model its LoRA came from."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("config")
parser.add_argument("--rope-theta", type=float, required=True)
parser.add_argument("--max-position-embeddings", type=int, required=True)
parser.add_argument("--rope-scaling", type=json.loads, required=True, help="JSON object, or null")
args = parser.parse_args()

with open(args.config, encoding="utf-8") as f:
    config = json.load(f)
keys = ("rope_theta", "max_position_embeddings", "rope_scaling")
before = {k: config.get(k) for k in keys}
config["rope_theta"] = int(args.rope_theta) if args.rope_theta.is_integer() else args.rope_theta
config["max_position_embeddings"] = args.max_position_embeddings
config["rope_scaling"] = args.rope_scaling
tmp = args.config + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2)
    f.write("\\n")
os.replace(tmp, args.config)
print("ctxlab: patched " + args.config + ": " + json.dumps(before) + " -> " + json.dumps({k: config[k] for k in keys}), flush=True)
`;

/** merge.yml: the target with the LoRA applied (mergekit's MODEL+LORA reference), passed through as it is, in `dtype`. */
export function mergeConfigDocument(target: string, lora: string, dtype: LoraMergeSpec['dtype']): { [k: string]: YamlValue } {
  return { models: [{ model: `${target}+${lora}` }], merge_method: 'passthrough', dtype };
}

/**
 * mergekit-yaml with `TARGET+LORA` (passthrough), then the config patch, as one `sh -ec` command so
 * the patch runs only after a successful merge.
 */
export function renderLoraMerge(spec: LoraMergeSpec, opts: RenderOptions = {}): RenderedJob {
  const resolve = opts.resolveUri ?? defaultUriResolver;
  const python = opts.python ?? 'python3';
  const target = resolve(spec.target, 'target');
  const lora = resolve(spec.lora, 'lora');
  for (const [field, v] of [['target', target], ['lora', lora]] as const) {
    // mergekit splits a model reference on "+" into model and LoRA.
    if (v.includes('+')) throw new DispatchError('UNSUPPORTED', `${field}: mergekit reads "${v}" as MODEL+LORA because of its "+"; move it to a path without "+"`, field);
  }
  const out = resolve(spec.output, 'output');
  const cache = spec.cache ? resolve(spec.cache, 'cache') : DEFAULT_LORA_MERGE_CACHE;
  const config = toYaml(mergeConfigDocument(target, lora, spec.dtype));
  const merge = ['mergekit-yaml', MERGE_CONFIG_FILE, out, '--lora-merge-cache', cache, ...(spec.cuda ? ['--cuda'] : [])];
  const patch = [
    python,
    PATCH_CONFIG_FILE,
    posix.join(out, 'config.json'),
    '--rope-theta', num(spec.ropeTheta),
    '--max-position-embeddings', num(spec.maxPositionEmbeddings),
    '--rope-scaling', JSON.stringify(spec.ropeScaling),
  ];
  const steps = [merge, patch];
  return {
    kind: 'lora-merge',
    argv: sequence(steps),
    env: {},
    files: [
      { path: MERGE_CONFIG_FILE, content: config },
      { path: PATCH_CONFIG_FILE, content: PATCH_CONFIG_SCRIPT },
    ],
    steps,
    resources: { gpus: spec.cuda ? 1 : 0, gpuType: spec.cuda ? (spec.gpuType ?? null) : null, nodes: 1, gpusPerNode: spec.cuda ? 1 : 0 },
    outputs: [spec.output],
    ...(spec.cache ? { scratch: [spec.cache] } : {}),
    tool: { id: 'mergekit', name: 'mergekit', version: spec.mergekitVersion },
  };
}
