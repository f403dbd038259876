export type * from './types';
export { createLlama3Tokenizer, llama3Tokenizer, LLAMA3_PATTERN, type HfTokenizerJson } from './llama3';
export { ByteTokenizer, byteTokenizer, BYTE_BOS, BYTE_EOS, BYTE_PAD } from './byte';
export { getTokenizer, isTokenizerName, TOKENIZER_NAMES, UnknownTokenizerError, type TokenizerName } from './registry';
export { llama3IsCutPair } from './bpe';
export { isPythonSpace, pythonStrip, removePythonSpace, utf8Length } from './text';
