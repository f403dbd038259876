import { byteTokenizer } from './byte';
import { llama3Tokenizer } from './llama3';
import type { Tokenizer } from './types';

export const TOKENIZER_NAMES = ['llama3', 'byte'] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

export class UnknownTokenizerError extends Error {
  readonly code = 'UNKNOWN_TOKENIZER';
  constructor(name: string) {
    super(`unknown tokenizer "${name}": expected one of ${TOKENIZER_NAMES.join(', ')}`);
  }
}

export function isTokenizerName(name: string): name is TokenizerName {
  return (TOKENIZER_NAMES as readonly string[]).includes(name);
}

/** Tokenizers are built once per process (Llama-3 parses a 9 MB tokenizer.json). */
export function getTokenizer(name: string): Tokenizer {
  switch (name) {
    case 'llama3':
      return llama3Tokenizer();
    case 'byte':
      return byteTokenizer();
    default:
      throw new UnknownTokenizerError(name);
  }
}
