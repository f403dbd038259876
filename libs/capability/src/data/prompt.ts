import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';

/**
 * What every prompt builder here returns. `text` is the prompt exactly as it is tokenised: the
 * chat-templated string (with the template's BOS text) when `useChat`, else the plain prompt (the
 * tokenizer adds BOS, as a Hugging Face `tokenizer(prompt)` call does). `promptIds` are the ids to
 * send to /v1/completions; `messages` the same prompt for /v1/chat/completions.
 */
export interface BuiltPrompt {
  messages: ChatMessage[];
  text: string;
  promptIds: Uint32Array;
  promptTokens: number;
  maxNewTokens: number;
  useChat: boolean;
}

/** The ids of the tokenizer's special tokens (BOS, EOS, end of turn, pad). */
function specialIds(tokenizer: Tokenizer): Set<number> {
  const s = tokenizer.special;
  const ids = new Set([s.bos.id, s.eos.id, s.eot.id]);
  if (s.pad) ids.add(s.pad.id);
  return ids;
}

/**
 * `tokenizer.decode(ids, skip_special_tokens=True)`. Prompts are encoded with special-token text
 * read as plain text, so the only specials among their ids are the ones the tokenizer adds
 * itself (BOS); those are dropped. Bytes that end inside a UTF-8 sequence decode to U+FFFD, as
 * Hugging Face's decode does.
 */
export function decodeSkippingSpecials(tokenizer: Tokenizer, ids: ArrayLike<number>): string {
  const special = specialIds(tokenizer);
  let any = false;
  for (let i = 0; i < ids.length && !any; i++) any = special.has(ids[i]!);
  if (!any) return tokenizer.decode(ids);
  const kept: number[] = [];
  for (let i = 0; i < ids.length; i++) if (!special.has(ids[i]!)) kept.push(ids[i]!);
  return tokenizer.decode(kept);
}

export interface MiddleTruncation {
  /** The prompt after truncation (unchanged when it fit). */
  text: string;
  /** Tokens of the untruncated prompt, as counted by the official code (with BOS when `addBos`). */
  fullTokens: number;
  truncated: boolean;
  /** The ids the official code keeps (first half then last half); all ids when it fit. */
  keptIds: number[];
}

/**
 * Truncation in the middle, shared by LongBench (pred.py: `half = int(max_length/2)`;
 * `decode(tokenized_prompt[:half], skip_special_tokens=True) + decode(tokenized_prompt[-half:], ...)`)
 * and InfiniteBench (eval_yarn_mistral.py truncate_input: `split = max_length // 2`;
 * `input[0:split] + input[-split:]`, then one decode with skip_special_tokens). The two agree:
 * decoding the halves apart or together gives the same text except where a UTF-8 sequence is cut
 * at the junction, and `joinDecoded` says which of the two the caller follows.
 */
export function truncateMiddle(
  tokenizer: Tokenizer,
  prompt: string,
  maxLength: number,
  opts: { addBos: boolean; joinDecoded: boolean },
): MiddleTruncation {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`maxLength must be an integer >= 2, got ${maxLength}`);
  const ids = tokenizer.encode(prompt, { addBos: opts.addBos });
  if (ids.length <= maxLength) return { text: prompt, fullTokens: ids.length, truncated: false, keptIds: ids };
  const half = Math.floor(maxLength / 2);
  const keptIds = ids.slice(0, half);
  for (let i = ids.length - half; i < ids.length; i++) keptIds.push(ids[i]!);
  const text = opts.joinDecoded
    ? decodeSkippingSpecials(tokenizer, keptIds)
    : decodeSkippingSpecials(tokenizer, ids.slice(0, half)) + decodeSkippingSpecials(tokenizer, ids.slice(ids.length - half));
  return { text, fullTokens: ids.length, truncated: true, keptIds };
}

/**
 * The prompt framed for the model: with `useChat`, the tokenizer's chat template around
 * `messages` (ending with the assistant header); without, the last message's content after BOS.
 */
export function framePrompt(tokenizer: Tokenizer, messages: ChatMessage[], useChat: boolean): { text: string; promptIds: Uint32Array } {
  if (useChat) return { text: tokenizer.applyChatTemplate(messages), promptIds: Uint32Array.from(tokenizer.encodeChat(messages)) };
  const content = messages[messages.length - 1]!.content;
  const body = tokenizer.encode(content);
  const promptIds = new Uint32Array(body.length + 1);
  promptIds[0] = tokenizer.special.bos.id;
  promptIds.set(body, 1);
  return { text: content, promptIds };
}

/** The BuiltPrompt every builder returns: `messages` framed by framePrompt, with its token count. */
export function builtPrompt(tokenizer: Tokenizer, messages: ChatMessage[], useChat: boolean, maxNewTokens: number): BuiltPrompt {
  const { text, promptIds } = framePrompt(tokenizer, messages, useChat);
  return { messages, text, promptIds, promptTokens: promptIds.length, maxNewTokens, useChat };
}
