import type { HubFiles } from './files';
import type { IssueLog } from './issues';
import { Fields, describe, isObject, parseObject, type Json } from './json';

export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';

/** What the tokenizer files say; every field null when the repository has none of them. */
export interface HubTokenizerInfo {
  /** tokenizer.json (the fast tokenizer) is present: the caller can register a tokenizer from it. */
  hasTokenizerJson: boolean;
  tokenizerClass: string | null;
  /** The chat template used when none is named: the string form, or the list entry named "default". */
  chatTemplate: string | null;
  /** Every named template of the list form (e.g. "tool_use", "rag"); {} for the string form. */
  chatTemplates: Record<string, string>;
  /** Where the template came from: tokenizer_config.json, chat_template.jinja or chat_template.json. */
  chatTemplateFile: string | null;
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  unkToken: string | null;
  /** model_max_length, or null when unset (transformers writes 1e30 for "no limit"). */
  modelMaxLength: number | null;
}

/** generation_config.json: the token ids and sampling defaults generation starts from. */
export interface HubGenerationConfig {
  bosTokenId: number | null;
  /** eos_token_id as a list (Llama-3-Instruct stops on <|end_of_text|> and <|eot_id|>). */
  eosTokenIds: number[];
  padTokenId: number | null;
  doSample: boolean | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  maxLength: number | null;
}

/** transformers' VERY_LARGE_INTEGER (int(1e30)) means "no limit"; anything near it is not a length. */
const NO_LIMIT = 1e29;

/** A special token as a string, or AddedToken's {content, …} form. */
function token(log: IssueLog, file: string, obj: Record<string, Json>, field: string): string | null {
  const v = obj[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  log.error(file, field, `${field} must be a token string or an AddedToken object with "content", got ${describe(v)}`);
  return null;
}

function chatTemplates(log: IssueLog, file: string, v: Json | undefined): { def: string | null; named: Record<string, string> } | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return { def: v, named: {} };
  if (Array.isArray(v)) {
    const named: Record<string, string> = {};
    for (const [i, e] of v.entries()) {
      if (!isObject(e) || typeof e.name !== 'string' || typeof e.template !== 'string') {
        log.error(file, `chat_template[${i}]`, `chat_template[${i}] must be {"name": string, "template": string}, got ${describe(e)}`);
        continue;
      }
      named[e.name] = e.template;
    }
    return { def: named.default ?? null, named };
  }
  log.error(file, 'chat_template', `chat_template must be a string or a list of {name, template}, got ${describe(v)}`);
  return null;
}

export async function readTokenizerInfo(files: HubFiles, names: ReadonlySet<string>, log: IssueLog): Promise<HubTokenizerInfo> {
  const info: HubTokenizerInfo = {
    hasTokenizerJson: names.has('tokenizer.json'),
    tokenizerClass: null,
    chatTemplate: null,
    chatTemplates: {},
    chatTemplateFile: null,
    bosToken: null,
    eosToken: null,
    padToken: null,
    unkToken: null,
    modelMaxLength: null,
  };
  if (names.has(TOKENIZER_CONFIG_FILE)) {
    const file = TOKENIZER_CONFIG_FILE;
    const obj = parseObject(log, file, (await files.readText(file)) ?? '');
    const f = new Fields(log, file, obj);
    info.tokenizerClass = f.string('tokenizer_class', '') ?? null;
    info.bosToken = token(log, file, obj, 'bos_token');
    info.eosToken = token(log, file, obj, 'eos_token');
    info.padToken = token(log, file, obj, 'pad_token');
    info.unkToken = token(log, file, obj, 'unk_token');
    const max = f.positiveNumber('model_max_length', '', false);
    info.modelMaxLength = max !== undefined && max < NO_LIMIT ? max : null;
    const t = chatTemplates(log, file, obj.chat_template);
    if (t) Object.assign(info, { chatTemplate: t.def, chatTemplates: t.named, chatTemplateFile: file });
  }
  // Newer transformers save the template beside tokenizer_config.json instead of inside it.
  if (info.chatTemplateFile === null && names.has('chat_template.jinja')) {
    info.chatTemplate = await files.readText('chat_template.jinja');
    info.chatTemplateFile = 'chat_template.jinja';
  } else if (info.chatTemplateFile === null && names.has('chat_template.json')) {
    const obj = parseObject(log, 'chat_template.json', (await files.readText('chat_template.json')) ?? '');
    const t = chatTemplates(log, 'chat_template.json', obj.chat_template);
    if (t) Object.assign(info, { chatTemplate: t.def, chatTemplates: t.named, chatTemplateFile: 'chat_template.json' });
  }
  return info;
}

export async function readGenerationConfig(files: HubFiles, names: ReadonlySet<string>, log: IssueLog): Promise<HubGenerationConfig | null> {
  if (!names.has(GENERATION_CONFIG_FILE)) return null;
  const file = GENERATION_CONFIG_FILE;
  const f = new Fields(log, file, parseObject(log, file, (await files.readText(file)) ?? ''));
  const one = (field: string): number | null => {
    const ids = f.tokenIds(field);
    if (ids && ids.length > 1) log.error(file, field, `${field} must be one token id, got a list`);
    return ids?.[0] ?? null;
  };
  const maxLength = f.positiveInt('max_length', '', false);
  const temperature = f.positiveNumber('temperature', '', false, true);
  const topP = f.positiveNumber('top_p', '', false);
  const topK = f.has('top_k') ? f.positiveNumber('top_k', '', false, true) : undefined;
  return {
    bosTokenId: one('bos_token_id'),
    eosTokenIds: f.tokenIds('eos_token_id') ?? [],
    padTokenId: one('pad_token_id'),
    doSample: f.boolean('do_sample', '') ?? null,
    temperature: temperature ?? null,
    topP: topP ?? null,
    topK: topK ?? null,
    maxLength: maxLength ?? null,
  };
}
