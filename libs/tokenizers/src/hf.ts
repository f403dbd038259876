import { Tokenizer as HfRuntime } from '@huggingface/tokenizers';
import { ChatTokenizer } from './chat';
import { analyseTokenizerJson, HfTokenizerError, type HfAddedToken, type HfTokenizerFamily, type HfTokenizerJsonFile, type SectionPrefix } from './hf-analysis';
import { ChatTemplate } from './hf-template';
import { utf8Length } from './text';
import type { ChatMessage, ChatTemplateOptions, EncodeOptions, IndexedEncoding, SpecialToken, SpecialTokens, TemplatePart } from './types';

export { HfTokenizerError, QWEN2_PATTERN, type HfTokenizerFamily, type SectionPrefix } from './hf-analysis';

export interface HfTokenizerFiles {
  name: string;
  /** Parsed tokenizer.json. */
  tokenizerJson: unknown;
  /** Parsed tokenizer_config.json (bos_token, eos_token, chat_template). */
  tokenizerConfig?: unknown;
  /** Where the files came from (a directory or package), named in error messages. */
  origin?: string;
  /** Used where tokenizer_config.json has no chat_template (Llama-2's lacks one). */
  chatTemplate?: string;
  /** Used where tokenizer_config.json has no bos_token (Qwen2.5: config.json's bos_token_id). */
  bosToken?: string;
}

/**
 * Cut positions are recorded inside chunks of about this many characters: each chunk is one
 * call into the runtime, and a SentencePiece model without a pre-tokenizer runs BPE over a
 * whole chunk as one word.
 */
const CHUNK_CHARS = 2048;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** tokenizer_config.json writes a token as a string or as an AddedToken object. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/**
 * A Tokenizer for any Hugging Face tokenizer.json (+ tokenizer_config.json). Ids come from
 * @huggingface/tokenizers (the reference's JS port); chat layouts from rendering the config's
 * chat_template with @huggingface/jinja; cut rules from hf-analysis.
 *
 * Encodings concatenate at cuts, as the Tokenizer contract asks: `encode(text)` is the ids of
 * `text` where it stands inside a longer text. For most tokenizers that is exactly the
 * reference's `encode(text, add_special_tokens=False)`. SentencePiece models whose normaliser
 * prefixes each text run with '▁' (Llama-2's Prepend) are the exception: the reference's ids
 * of a whole string are `encode(text, { textStart: true })` (also implied by addBos), and the
 * prefix the reference adds after each special token of a chat prompt is an explicit ' ' text
 * part at the start of that run in chatLayout (applyChatTemplate leaves it out).
 */
export class HfTokenizer extends ChatTokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly family: HfTokenizerFamily;
  private readonly runtime: HfRuntime;
  private readonly bytesById: (Uint8Array | undefined)[];
  private readonly specialsByText = new Map<string, SpecialToken & { lstrip: boolean; rstrip: boolean }>();
  private readonly addedById = new Map<number, Uint8Array>();
  private readonly cutPair: (prev: number, next: number) => boolean;
  private readonly normalizedLengths?: { lengths: Int32Array; markerExtra: number };
  private readonly prefix: SectionPrefix;
  /** Continuation encoding for prefixing models: a character cut on both sides, and its ids. */
  private readonly sentinel?: { text: string; ids: number[] };
  private readonly template?: ChatTemplate;
  private readonly configFile: string;

  constructor(files: HfTokenizerFiles) {
    super();
    const where = files.origin ? `${files.origin}/` : '';
    const jsonFile = `${where}tokenizer.json`;
    this.configFile = `${where}tokenizer_config.json`;
    const json = files.tokenizerJson;
    if (!isObj(json) || !isObj(json.model) || typeof json.model.type !== 'string' || !isObj(json.model.vocab) && !Array.isArray(json.model.vocab)) {
      throw new HfTokenizerError(`${jsonFile} is not a Hugging Face tokenizer.json: it has no model with a type and a vocab`, jsonFile, 'model');
    }
    const tj = json as unknown as HfTokenizerJsonFile;
    const config = isObj(files.tokenizerConfig) ? files.tokenizerConfig : {};
    this.name = files.name;
    const added: HfAddedToken[] = Array.isArray(tj.added_tokens) ? tj.added_tokens : [];
    const plainAdded = added.filter((t) => !t.special);
    const analysis = analyseTokenizerJson(tj, jsonFile, plainAdded);
    this.family = analysis.family;
    this.bytesById = analysis.tokenBytes;
    this.cutPair = analysis.isCutPair;
    this.normalizedLengths = analysis.normalized;
    this.prefix = analysis.family.sectionPrefix;
    const enc = new TextEncoder();
    for (const t of added) {
      this.addedById.set(t.id, enc.encode(t.content));
      if (t.special) this.specialsByText.set(t.content, { id: t.id, text: t.content, lstrip: !!t.lstrip, rstrip: !!t.rstrip });
    }
    // The runtime recognises every added token it is given in any text; specials are left out so
    // a user's "<|eot_id|>" stays text unless the caller allows it (EncodeOptions.allowedSpecial).
    this.runtime = new HfRuntime({ ...tj, added_tokens: plainAdded }, config);
    this.vocabSize = Math.max(this.bytesById.length, ...added.map((t) => t.id + 1));

    const find = (field: string, text: string | undefined, fallbackNote: string): SpecialToken => {
      if (text === undefined) {
        throw new HfTokenizerError(`${this.configFile} has no ${field}${fallbackNote}; ${this.name} needs it`, this.configFile, field);
      }
      const s = this.specialsByText.get(text);
      if (s) return { id: s.id, text: s.text };
      const id = this.runtime.token_to_id(text);
      if (id === undefined) throw new HfTokenizerError(`${this.configFile}: ${field} "${text}" is not a token of ${jsonFile}`, this.configFile, field);
      return { id, text };
    };
    const bos = find('bos_token', tokenText(config.bos_token) ?? files.bosToken, ' (and no BOS was supplied from config.json)');
    const eos = find('eos_token', tokenText(config.eos_token), '');
    const pad = tokenText(config.pad_token);
    const specialList = [...this.specialsByText.values()].map((s) => ({ id: s.id, text: s.text }));
    const source = typeof config.chat_template === 'string' ? config.chat_template : files.chatTemplate;
    if (source !== undefined) {
      const variables: Record<string, unknown> = { bos_token: bos.text, eos_token: eos.text };
      for (const f of ['unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
        const t = tokenText(config[f]);
        if (t !== undefined) variables[f] = t;
      }
      this.template = new ChatTemplate({ file: this.configFile, name: this.name, source, variables, specials: specialList });
    }
    this.special = { bos, eos, eot: this.findEot() ?? eos, ...(pad !== undefined && this.specialsByText.has(pad) ? { pad: find('pad_token', pad, '') } : {}) };

    if (this.prefix.when !== 'never') {
      const candidates = ['\n', '\t', '\r', '\u0001', '\u0002', '\u0003', '\u0004'];
      const isolated = analysis.isolated;
      const ok = (c: string) => isolated?.(c.codePointAt(0)!) && !added.some((t) => t.content.includes(c));
      const text = candidates.find(ok);
      if (!text) {
        throw new HfTokenizerError(
          `${jsonFile}: ${this.name} prefixes each text run with a space marker, and no character stands outside every vocabulary token to encode a continuing text with`,
          jsonFile,
          'normalizer',
        );
      }
      this.sentinel = { text, ids: this.runtime.encode(text, { add_special_tokens: false }).ids };
    }
  }

  /** The special token that ends an assistant turn in the template (Llama-3 <|eot_id|>, Qwen <|im_end|>). */
  private findEot(): SpecialToken | undefined {
    if (!this.template) return undefined;
    try {
      const parts = this.template.layout(['user', 'assistant'], false);
      const at = parts.findIndex((p) => p.kind === 'content' && p.message === 1);
      const after = parts.slice(at + 1).find((p) => p.kind === 'special');
      return after?.kind === 'special' ? after.token : undefined;
    } catch {
      return undefined;
    }
  }

  /** The reference's ids of a text run standing where the reference would prefix it. */
  private encodeRunStart(text: string): number[] {
    return text ? this.runtime.encode(text, { add_special_tokens: false }).ids : [];
  }

  /** Ids of a text run continuing a longer text (no run-start prefix). */
  private encodeRun(text: string): number[] {
    if (!text) return [];
    if (!this.sentinel) return this.runtime.encode(text, { add_special_tokens: false }).ids;
    const { text: s, ids: sIds } = this.sentinel;
    const ids = this.runtime.encode(s + text, { add_special_tokens: false }).ids;
    for (let i = 0; i < sIds.length; i++) {
      if (ids[i] !== sIds[i]) throw new Error(`internal: ${this.name} merged the sentinel ${JSON.stringify(s)} into the text after it`);
    }
    return ids.slice(sIds.length);
  }

  private splitSpecials(text: string, allowed: EncodeOptions['allowedSpecial']): (string | SpecialToken)[] {
    if (!allowed || (allowed !== 'all' && allowed.size === 0)) return [text];
    const names = allowed === 'all' ? [...this.specialsByText.keys()] : [...allowed].filter((s) => this.specialsByText.has(s));
    if (names.length === 0) return [text];
    names.sort((a, b) => b.length - a.length);
    const re = new RegExp(names.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    const parts: (string | SpecialToken)[] = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      const s = this.specialsByText.get(m[0])!;
      let before = text.slice(last, m.index);
      if (s.lstrip) before = before.trimEnd();
      if (before) parts.push(before);
      parts.push({ id: s.id, text: s.text });
      last = m.index + m[0].length;
      if (s.rstrip) while (last < text.length && /\s/.test(text[last]!)) last++;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = opts.addBos ? [this.special.bos.id] : [];
    const start = opts.textStart === true || opts.addBos === true;
    let first = true;
    for (const part of this.splitSpecials(text, opts.allowedSpecial)) {
      if (typeof part !== 'string') out.push(part.id);
      else {
        const runStart = first ? start : this.prefix.sections === 'all';
        this.encodeLong(part, runStart, out);
      }
      first = false;
    }
    return out;
  }

  /**
   * A long run is encoded in chunks split at cuts (the same ids, by the cut contract): a
   * SentencePiece model without a pre-tokenizer would otherwise run BPE over the whole text as
   * one word, several times slower.
   */
  private encodeLong(text: string, runStart: boolean, out: number[]): void {
    let from = 0;
    const push = (ids: number[]) => {
      for (const id of ids) out.push(id);
    };
    if (text.length > 2 * CHUNK_CHARS && this.family.cutRule !== 'none') {
      for (let i = CHUNK_CHARS; i < text.length - CHUNK_CHARS; i++) {
        if ((text.charCodeAt(i) & 0xfc00) === 0xdc00) continue;
        const before = text.charCodeAt(i - 1);
        const prev = (before & 0xfc00) === 0xdc00 ? text.codePointAt(i - 2)! : before;
        if (!this.cutPair(prev, text.codePointAt(i)!)) continue;
        const chunk = text.slice(from, i);
        push(from === 0 && runStart ? this.encodeRunStart(chunk) : this.encodeRun(chunk));
        from = i;
        i += CHUNK_CHARS - 1;
      }
    }
    const rest = text.slice(from);
    push(from === 0 && runStart ? this.encodeRunStart(rest) : this.encodeRun(rest));
  }

  count(text: string, opts: EncodeOptions = {}): number {
    return this.encode(text, opts).length;
  }

  tokenBytes(id: number): Uint8Array {
    const b = this.addedById.get(id) ?? this.bytesById[id];
    if (!b) throw new RangeError(`token id ${id} is not in the ${this.name} vocabulary`);
    return b;
  }

  private requireTemplate(): ChatTemplate {
    if (!this.template) {
      throw new HfTokenizerError(`${this.configFile} has no chat_template; ${this.name} cannot lay out a chat prompt`, this.configFile, 'chat_template');
    }
    return this.template;
  }

  normalizeContent(content: string): string {
    return this.requireTemplate().normalizeContent()(content);
  }

  /** The rendered template's parts, plus the run-start prefix where the reference adds one. */
  chatLayout(roles: readonly string[], opts: ChatTemplateOptions = {}): TemplatePart[] {
    const raw = this.requireTemplate().layout(roles, opts.addGenerationPrompt ?? true);
    if (this.prefix.when === 'never') return raw.slice();
    const out: TemplatePart[] = [];
    raw.forEach((p, i) => {
      const runStart = p.kind !== 'special' && (i === 0 || (raw[i - 1]!.kind === 'special' && this.prefix.sections === 'all'));
      if (runStart) {
        // The text run's own leading space takes the place of the marker under Metaspace.
        const leadingSpace = p.kind === 'text' && p.text.startsWith(' ');
        if (this.prefix.when === 'always' || !leadingSpace) {
          if (p.kind === 'text') {
            out.push({ kind: 'text', text: ' ' + p.text });
            return;
          }
          out.push({ kind: 'text', text: ' ' });
        }
      }
      out.push(p);
    });
    return out;
  }

  override applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    return this.requireTemplate()
      .layout(
        messages.map((m) => m.role),
        opts.addGenerationPrompt ?? true,
      )
      .map((p) => (p.kind === 'special' ? p.token.text : p.kind === 'text' ? p.text : this.normalizeContent(messages[p.message]!.content)))
      .join('');
  }

  /** Renders the template with Jinja as the reference does (contents as given, not normalised). */
  renderChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    return this.requireTemplate().render(messages, opts.addGenerationPrompt ?? true);
  }

  isCutPair(prev: number, next: number): boolean {
    return this.cutPair(prev, next);
  }

  /**
   * encode(text) split at cuts: the text is cut into chunks of about CHUNK_CHARS at cut pairs,
   * each chunk encoded on its own, and every cut inside a chunk located by the token bytes (a
   * cut is a token boundary, so its UTF-8 offset starts a token).
   */
  encodeIndexed(text: string): IndexedEncoding {
    const ids: number[] = [];
    const cutChars: number[] = [];
    const cutTokens: number[] = [];
    let chunkStart = 0;
    let prev = -1;
    const inChunk: number[] = [];
    const flushChunk = (end: number) => {
      if (end <= chunkStart) return;
      const chunk = text.slice(chunkStart, end);
      const base = ids.length;
      const enc = this.encodeRun(chunk);
      if (chunkStart > 0) {
        cutChars.push(chunkStart);
        cutTokens.push(base);
      }
      if (inChunk.length) this.locateCuts(chunk, enc, inChunk, chunkStart, base, cutChars, cutTokens);
      for (const id of enc) ids.push(id);
      inChunk.length = 0;
      chunkStart = end;
    };
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      if (prev >= 0 && this.cutPair(prev, cp)) {
        if (i - chunkStart >= CHUNK_CHARS) flushChunk(i);
        else inChunk.push(i - chunkStart);
      }
      prev = cp;
      i += cp > 0xffff ? 2 : 1;
    }
    flushChunk(text.length);
    return { ids: Uint32Array.from(ids), cutChars: Int32Array.from(cutChars), cutTokens: Int32Array.from(cutTokens) };
  }

  private locateCuts(chunk: string, enc: readonly number[], cuts: readonly number[], charBase: number, tokBase: number, cutChars: number[], cutTokens: number[]): void {
    // Token lengths stand for the chunk's own bytes only where nothing rewrote the text.
    if (this.family.normalizer.includes('NFC') && chunk.normalize('NFC') !== chunk) return;
    const norm = this.normalizedLengths;
    const tokenLength = norm ? (id: number) => (this.addedById.has(id) ? this.addedById.get(id)!.length : (norm.lengths[id] ?? 0)) : (id: number) => this.tokenBytes(id).length;
    const textLength = (s: string) => {
      let n = utf8Length(s);
      if (norm?.markerExtra) for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x20) n += norm.markerExtra;
      return n;
    };
    let tok = 0;
    let tokByte = 0;
    let char = 0;
    let byte = 0;
    for (const c of cuts) {
      byte += textLength(chunk.slice(char, c));
      char = c;
      while (tok < enc.length && tokByte < byte) tokByte += tokenLength(enc[tok++]!);
      if (tokByte !== byte) return; // e.g. <unk> tokens: the lengths no longer line up
      cutChars.push(charBase + c);
      cutTokens.push(tokBase + tok);
    }
  }
}

export function createHfTokenizer(files: HfTokenizerFiles): HfTokenizer {
  return new HfTokenizer(files);
}
