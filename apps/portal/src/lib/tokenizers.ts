// Plain data and functions, no 'use client': server pages compute the choices, client forms show them.

/** A tokenizer a spec may name: the built-ins, and those imported with models (`hf:<dir>`, shown by the model's name). */
export interface TokenizerChoice {
  value: string;
  label: string;
}

export const BUILTIN_TOKENIZERS: readonly TokenizerChoice[] = [
  { value: 'llama3', label: 'Llama-3 (exact, fast path)' },
  { value: 'byte', label: 'byte-level (lab model)' },
  { value: 'llama2', label: 'Llama-2 (SentencePiece)' },
  { value: 'qwen2.5', label: 'Qwen2.5 (byte-level BPE)' },
];

/** The tokenizers of imported models, one choice each, after the built-ins. */
export function tokenizerChoices(models: readonly { name: string; tokenizer: string }[]): TokenizerChoice[] {
  const seen = new Map<string, string[]>();
  for (const m of models) if (m.tokenizer.startsWith('hf:')) seen.set(m.tokenizer, [...(seen.get(m.tokenizer) ?? []), m.name]);
  return [...BUILTIN_TOKENIZERS, ...[...seen].map(([value, names]) => ({ value, label: `${names.slice(0, 2).join(', ')}${names.length > 2 ? ' …' : ''} (imported tokenizer.json)` }))];
}
