export type * from './types';
export { createLlama3Tokenizer, llama3Tokenizer, LLAMA3_PATTERN, type HfTokenizerJson } from './llama3';
export { ByteTokenizer, byteTokenizer, BYTE_BOS, BYTE_EOS, BYTE_PAD } from './byte';
export { createHfTokenizer, HfTokenizer, HfTokenizerError, QWEN2_PATTERN, type HfTokenizerFamily, type HfTokenizerFiles, type SectionPrefix } from './hf';
export { LLAMA2_CHAT_TEMPLATE } from './hf-templates';
export {
  builtinTokenizerFor,
  getTokenizer,
  HF_TOKENIZER_PREFIX,
  isTokenizerName,
  TOKENIZER_NAMES,
  UnknownTokenizerError,
  type BuiltinTokenizerName,
  type TokenizerName,
} from './registry';
export { llama3IsCutPair, qwen2IsCutPair } from './bpe';
export { isPythonSpace, pythonStrip, removePythonSpace, utf8Length } from './text';
