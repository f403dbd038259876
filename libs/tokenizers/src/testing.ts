import { byteLevelTables } from './bpe';
import type { HfTokenizerJson } from './llama3';

/**
 * A byte-level BPE tokenizer.json as tiktoken's inputs: the `mergeable_ranks` file text (base64
 * of each token's bytes, space, rank — the id, as in Meta's tokenizer.model), the special tokens
 * and the pre-tokenizer regex. Lets tests and benchmarks run tiktoken with Llama-3's own ranks.
 */
export function tiktokenInputs(json: HfTokenizerJson): { ranks: string; specials: Record<string, number>; pattern: string } {
  const { charToByte } = byteLevelTables();
  const lines: string[] = [];
  for (const [tok, id] of Object.entries(json.model.vocab)) {
    const bytes = Uint8Array.from(tok, (ch) => {
      const b = charToByte.get(ch);
      if (b === undefined) throw new Error(`vocabulary entry ${id} is not byte-level encoded`);
      return b;
    });
    lines.push(`${Buffer.from(bytes).toString('base64')} ${id}`);
  }
  const specials: Record<string, number> = {};
  for (const t of json.added_tokens) specials[t.content] = t.id;
  const pre = json.pre_tokenizer as { pretokenizers?: { type: string; pattern?: { Regex?: string } }[] } | undefined;
  const pattern = pre?.pretokenizers?.find((p) => p.type === 'Split')?.pattern?.Regex;
  if (!pattern) throw new Error('tokenizer.json has no Split pre-tokenizer regex');
  return { ranks: lines.join('\n'), specials, pattern };
}
