import { type Corpus, getCorpusIndex, hashSeed, Rng } from '@ctxlab/niah';
import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';
import { assemblePrompt, countPrompt, fitRangeEnd, type Piece, type PromptFrame } from './assemble';
import { RulerError } from './errors';

/**
 * Topic retrieval, LongChat's long-context test (DachengLi1/LongChat, longeval/utils.py, as
 * BAAI report it): a record of N conversations, each opened by the user with "I would like to
 * discuss the topic of <TOPIC>", then the question for the first topic. LongChat's
 * conversations were written for its 3,000 topics; ctxlab builds them from any corpus whose
 * documents have titles (the document's name is the topic, its text the assistant's side),
 * can ask for the k-th topic, and cuts the passages to share the length so the prompt is
 * exact: every passage gets an equal share, the last one ends where the count is met.
 * LongChat generates 50 tokens; a prediction scores 100 when it contains the topic
 * (case, punctuation and spacing ignored), else 0.
 */

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
export const TOPIC_MAX_NEW_TOKENS = 50;

export interface TopicSampleOptions {
  /** Exact prompt tokens (template included). */
  length: number;
  topics: number;
  /** Which topic is asked, 1-based (default 1, LongChat's "first"). */
  ask?: number;
  seed: number;
  index: number;
  tokenizer: Tokenizer;
  chatTemplate?: boolean;
  /** Documents with titles: CorpusDocument.name is the topic. */
  corpus: Corpus;
  verify?: boolean;
}

export interface TopicSample {
  id: string;
  messages: ChatMessage[];
  promptIds: Uint32Array;
  inputTokens: number;
  topics: string[];
  answer: string;
  maxNewTokens: number;
}

const ordinal = (k: number) => ORDINALS[k - 1] ?? `${k}th`;

export function generateTopicRetrievalSample(opts: TopicSampleOptions): TopicSample {
  const { corpus, tokenizer } = opts;
  const ask = opts.ask ?? 1;
  if (!Number.isInteger(opts.topics) || opts.topics < 1) throw new RulerError(`topics must be a positive integer, got ${opts.topics}`, 'topics');
  if (opts.topics > corpus.documents.length) {
    throw new RulerError(`corpus "${corpus.name}" has ${corpus.documents.length} documents, fewer than the ${opts.topics} topics asked`, 'topics');
  }
  if (!Number.isInteger(ask) || ask < 1 || ask > opts.topics) throw new RulerError(`ask must be between 1 and ${opts.topics}, got ${ask}`, 'ask');
  const rng = new Rng(hashSeed(opts.seed, 'topic', opts.length, opts.topics, opts.index));
  const picked = rng.sample(
    corpus.documents.map((_d, i) => i),
    opts.topics,
  );
  const titles = picked.map((i) => corpus.documents[i]!.name);
  const index = getCorpusIndex(corpus, tokenizer);
  const frame: PromptFrame = { tokenizer, chatTemplate: opts.chatTemplate ?? true, answerPrefix: '', index };
  const head =
    `Below is a record of our previous conversation on ${opts.topics} different topics. You are the ASSISTANT, and ` +
    `I am the USER. At the beginning of each topic, the USER will say 'I would like to discuss the topic of <TOPIC>'. Memorize each ` +
    `<TOPIC>. At the end of the record, I will ask you to retrieve the ${ordinal(ask)} topic. Now the record start. `;
  const tail = `Now the record ends. What is the ${ordinal(ask)} topic(s) we discussed? Only give me the topic name. Do not summarize yourself.`;
  const contentFor = (ends: number[]): Piece[] => {
    const pieces: Piece[] = [head];
    picked.forEach((d, i) => {
      const start = index.docStart(d);
      pieces.push(`USER: I would like to discuss the topic of ${titles[i]!}. \n ASSISTANT: `, { from: start, to: ends[i]! }, ' \n ');
    });
    pieces.push(tail);
    return pieces;
  };
  const starts = picked.map((d) => index.docStart(d));
  const docEnds = picked.map((d) => index.docStart(d) + corpus.documents[d]!.text.length);
  const overhead = countPrompt(frame, contentFor(starts));
  if (overhead >= opts.length) {
    throw new RulerError(`a ${opts.length}-token prompt cannot hold ${opts.topics} topics' headers, which need ${overhead} tokens`, 'length');
  }
  const share = Math.floor((opts.length - overhead) / opts.topics);
  const ends = picked.map((d, i) => {
    const startTok = index.lastCutBelow(starts[i]! + 1).tok;
    const cut = index.cutAtOrBeforeToken(startTok + share);
    return Math.min(docEnds[i]!, Math.max(starts[i]!, cut.char));
  });
  const last = opts.topics - 1;
  const b = fitRangeEnd(
    frame,
    (end) => contentFor(ends.map((e, i) => (i === last ? end : e))),
    starts[last]!,
    docEnds[last]!,
    opts.length,
  );
  if (b === undefined) {
    throw new RulerError(`the documents drawn are too short to fill ${opts.length} tokens with ${opts.topics} topics; ask for fewer tokens or more topics`, 'length');
  }
  ends[last] = b;
  const prompt = assemblePrompt(frame, contentFor(ends), { verify: opts.verify });
  if (prompt.promptIds.length !== opts.length) throw new Error(`internal: topic prompt has ${prompt.promptIds.length} tokens, not ${opts.length}`);
  return {
    id: `topics${opts.topics}-ask${ask}-L${opts.length}-S${opts.index}`,
    messages: prompt.messages,
    promptIds: prompt.promptIds,
    inputTokens: prompt.promptIds.length,
    topics: titles,
    answer: titles[ask - 1]!,
    maxNewTokens: TOPIC_MAX_NEW_TOKENS,
  };
}

const normalize = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** 100 when the prediction names the topic (case, punctuation and spacing ignored), else 0. */
export function scoreTopic(prediction: string, topic: string): number {
  const t = normalize(topic);
  if (!t) throw new RulerError('a topic must have letters or digits', 'topic');
  return ` ${normalize(prediction)} `.includes(` ${t} `) ? 100 : 0;
}
