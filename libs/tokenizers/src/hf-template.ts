import { Template } from '@huggingface/jinja';
import { HfTokenizerError } from './hf-analysis';
import { pythonStrip } from './text';
import type { SpecialToken, TemplatePart } from './types';

/**
 * A Hugging Face chat template (Jinja, from tokenizer_config.json) turned into layouts: the
 * template is rendered with a unique sentinel per message content, and the output is split into
 * special tokens (added tokens marked special, matched as text), plain text and content slots.
 * What the template does to a content (Llama-3: `| trim`) is found by rendering contents padded
 * with whitespace and seeing what is left.
 */

const slot = (i: number) => `\uE000${i}\uE001`;
const SLOT_RE = /\uE000(\d+)\uE001/g;
const PAD = ' \t\n ';

export interface ChatTemplateInfo {
  /** "tokenizer_config.json" with its directory, for error messages. */
  file: string;
  name: string;
  source: string;
  /** Template variables: bos_token, eos_token, ... */
  variables: Record<string, unknown>;
  specials: readonly SpecialToken[];
}

export class ChatTemplate {
  private readonly template: Template;
  private readonly cache = new Map<string, TemplatePart[]>();
  private readonly bySpecialText: Map<string, SpecialToken>;
  private readonly specialRe: RegExp | undefined;
  private normalizer: ((s: string) => string) | undefined;

  constructor(private readonly info: ChatTemplateInfo) {
    try {
      this.template = new Template(info.source);
    } catch (e) {
      throw new HfTokenizerError(`${info.file}: chat_template of ${info.name} does not parse: ${(e as Error).message}`, info.file, 'chat_template');
    }
    this.bySpecialText = new Map(info.specials.map((s) => [s.text, s]));
    const texts = [...this.bySpecialText.keys()].sort((a, b) => b.length - a.length);
    this.specialRe = texts.length ? new RegExp(texts.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
  }

  render(messages: readonly { role: string; content: string }[], addGenerationPrompt: boolean): string {
    try {
      return this.template.render({ ...this.info.variables, messages, add_generation_prompt: addGenerationPrompt });
    } catch (e) {
      const roles = messages.map((m) => m.role).join(', ');
      throw new HfTokenizerError(
        `${this.info.file}: the chat_template of ${this.info.name} refuses a conversation with roles [${roles}]: ${(e as Error).message}`,
        this.info.file,
        'chat_template',
      );
    }
  }

  /** Parts of the rendered template, each content a slot (raw: no tokenizer-specific additions). */
  layout(roles: readonly string[], addGenerationPrompt: boolean): TemplatePart[] {
    const key = `${addGenerationPrompt ? 1 : 0}\u0000${roles.join('\u0000')}`;
    let parts = this.cache.get(key);
    if (!parts) {
      const rendered = this.render(
        roles.map((role, i) => ({ role, content: slot(i) })),
        addGenerationPrompt,
      );
      parts = this.split(rendered, roles.length);
      this.cache.set(key, parts);
    }
    return parts;
  }

  private split(rendered: string, messages: number): TemplatePart[] {
    const parts: TemplatePart[] = [];
    const seen = new Array<number>(messages).fill(0);
    const text = (s: string) => {
      if (!s) return;
      const last = parts.at(-1);
      if (last?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: last.text + s };
      else parts.push({ kind: 'text', text: s });
    };
    // Content slots first, then specials inside the text between them.
    let at = 0;
    for (const m of rendered.matchAll(SLOT_RE)) {
      this.splitSpecials(rendered.slice(at, m.index), parts, text);
      const i = Number(m[1]);
      seen[i] = (seen[i] ?? 0) + 1;
      parts.push({ kind: 'content', message: i });
      at = m.index + m[0].length;
    }
    this.splitSpecials(rendered.slice(at), parts, text);
    const bad = seen.findIndex((n) => n !== 1);
    if (bad >= 0) {
      throw new HfTokenizerError(
        `${this.info.file}: the chat_template of ${this.info.name} puts message ${bad}'s content into the prompt ${seen[bad]} times; ctxlab needs each content exactly once`,
        this.info.file,
        'chat_template',
      );
    }
    return parts;
  }

  private splitSpecials(s: string, parts: TemplatePart[], text: (s: string) => void): void {
    if (!this.specialRe) return text(s);
    let at = 0;
    for (const m of s.matchAll(this.specialRe)) {
      text(s.slice(at, m.index));
      parts.push({ kind: 'special', token: this.bySpecialText.get(m[0])! });
      at = m.index + m[0].length;
    }
    text(s.slice(at));
  }

  /**
   * What the template does to a content, by probing: padded contents come back padded (identity)
   * or stripped on one or both sides (Python's str.strip, which Jinja's `trim` is in the
   * reference; Llama-2 strips the system prompt and first user turn as one string). Stripping
   * first is then right for every slot: a stripped content is left alone by any of these.
   */
  normalizeContent(): (s: string) => string {
    if (this.normalizer) return this.normalizer;
    const roles = this.probeRoles();
    const rendered = this.render(
      roles.map((role, i) => ({ role, content: PAD + slot(i) + PAD })),
      false,
    );
    const raw = this.layout(roles, false);
    const expected = raw.map((p) => (p.kind === 'special' ? p.token.text : p.kind === 'text' ? p.text : slot(p.message))).join('');
    // Each slot comes back padded, or with the padding gone on one or both sides.
    let strips = false;
    let candidate = rendered;
    roles.forEach((_r, i) => {
      const s = slot(i);
      const form = [PAD + s + PAD, PAD + s, s + PAD, s].find((f) => candidate.includes(f));
      if (form === undefined) return;
      if (form !== PAD + s + PAD) strips = true;
      candidate = candidate.replace(form, s);
    });
    if (candidate !== expected) {
      throw new HfTokenizerError(
        `${this.info.file}: the chat_template of ${this.info.name} changes message contents in a way ctxlab cannot mirror (only trimming is supported)`,
        this.info.file,
        'chat_template',
      );
    }
    this.normalizer = strips ? pythonStrip : (s: string) => s;
    return this.normalizer;
  }

  /** A conversation the template accepts, to probe with: system + user + assistant, or fewer. */
  private probeRoles(): string[] {
    for (const roles of [['system', 'user', 'assistant'], ['user', 'assistant'], ['user']]) {
      try {
        this.layout(roles, false);
        return roles;
      } catch {
        /* try a shorter conversation */
      }
    }
    return ['user'];
  }
}
