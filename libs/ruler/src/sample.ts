import { type Corpus, getCorpusIndex, hashSeed, Rng } from '@ctxlab/niah';
import type { ChatMessage, Tokenizer } from '@ctxlab/tokenizers';
import { assemblePrompt } from './assemble';
import { RulerError } from './errors';
import type { QaDataset } from './qa-data';
import type { TaskInput, TaskOutput } from './tasks/common';
import { isRulerTaskName, RULER_TASKS, type RulerMetric, type RulerTaskConfig, type RulerTaskName } from './tasks/config';
import { buildCwe } from './tasks/cwe';
import { buildFwe } from './tasks/fwe';
import { buildNiah } from './tasks/niah';
import { buildQa } from './tasks/qa';
import { buildVt } from './tasks/vt';
import type { WordLists } from './words';

export interface RulerSampleOptions {
  task: RulerTaskName;
  /** Sequence length as RULER counts it: the prompt plus the task's tokens_to_generate (see `lengthCounts`). */
  length: number;
  seed: number;
  /** Sample number (also the QA question number, as in RULER). */
  index: number;
  tokenizer: Tokenizer;
  /** Wrap the content in the tokenizer's chat template (default true); false: BOS + text, RULER's `base` template. */
  chatTemplate?: boolean;
  /**
   * 'sequence' (default): `length` includes tokens_to_generate, as RULER's max_seq_length does,
   * so the prompt has length − tokens_to_generate tokens; 'prompt': the prompt has `length` tokens.
   */
  lengthCounts?: 'sequence' | 'prompt';
  /** Haystack of the essay tasks (RULER: Paul Graham's essays). */
  corpus?: Corpus;
  /** Keys of the word-keyed niah tasks and cwe's words. */
  words?: WordLists;
  /** SQuAD for qa_1, HotpotQA for qa_2. */
  qaDataset?: QaDataset;
  /** Re-tokenise the whole prompt and compare (tests and audits). */
  verify?: boolean;
}

export interface RulerSample {
  task: RulerTaskName;
  /** Stable id: task, length, sample number (resume by id; see the note on RULER's resume key). */
  id: string;
  length: number;
  index: number;
  /** The user turn, for /v1/chat/completions (servers that continue a final assistant message can add `answerPrefix` as one). */
  messages: ChatMessage[];
  /** Exact ids of the templated prompt including the answer prefix, for /v1/completions. */
  promptIds: Uint32Array;
  inputTokens: number;
  answerPrefix: string;
  answers: string[];
  maxNewTokens: number;
  metric: RulerMetric;
  meta: Record<string, unknown>;
}

/**
 * The sample's id. RULER's own resume key is the manifest's `index` field, which its niah
 * script overwrites with the character offset of the first answer in the prompt (niah.py:
 * `index = input_text.find(answer[0])`), and its qa script numbers from 0 in every chunk — so
 * two different samples can share a key and a resumed run skips one of them. ctxlab keys by
 * what identifies a sample.
 */
export const rulerSampleId = (task: string, length: number, index: number) => `${task}-L${length}-S${index}`;

export function generateRulerSample(opts: RulerSampleOptions): RulerSample {
  if (!isRulerTaskName(opts.task)) throw new RulerError(`unknown RULER task "${String(opts.task)}"`, 'task');
  const config: RulerTaskConfig = RULER_TASKS[opts.task];
  if (!Number.isInteger(opts.length) || opts.length <= 0) throw new RulerError(`length must be a positive integer, got ${opts.length}`, 'length');
  const counts = opts.lengthCounts ?? 'sequence';
  const target = counts === 'sequence' ? opts.length - config.tokensToGenerate : opts.length;
  const sequenceLength = counts === 'sequence' ? opts.length : opts.length + config.tokensToGenerate;
  if (target <= 0) throw new RulerError(`length ${opts.length} leaves no room for a prompt after ${config.tokensToGenerate} tokens to generate`, 'length');
  const base = [opts.seed, opts.task, opts.length, opts.index] as const;
  const input: TaskInput = {
    config,
    sequenceLength,
    target,
    tokenizer: opts.tokenizer,
    chatTemplate: opts.chatTemplate ?? true,
    seed: opts.seed,
    index: opts.index,
    rng: () => new Rng(hashSeed(...base, 'sample')),
    fixedRng: (label) => new Rng(hashSeed(opts.seed, opts.task, label)),
    drawRng: (...label) => new Rng(hashSeed(...base, ...label)),
    words: opts.words,
    corpus: opts.corpus,
    corpusIndex: opts.corpus ? getCorpusIndex(opts.corpus, opts.tokenizer) : undefined,
    qa: opts.qaDataset,
  };
  const out = build(input);
  const prompt = assemblePrompt(out.frame, out.content, { verify: opts.verify });
  if (prompt.promptIds.length !== target) {
    throw new Error(`internal: ${opts.task} built ${prompt.promptIds.length} tokens for a ${target}-token prompt`);
  }
  return {
    task: opts.task,
    id: rulerSampleId(opts.task, opts.length, opts.index),
    length: opts.length,
    index: opts.index,
    messages: prompt.messages,
    promptIds: prompt.promptIds,
    inputTokens: prompt.promptIds.length,
    answerPrefix: out.answerPrefix,
    answers: out.answers,
    maxNewTokens: config.tokensToGenerate,
    metric: config.metric,
    meta: out.meta,
  };
}

function build(input: TaskInput): TaskOutput {
  const c = input.config;
  switch (c.family) {
    case 'niah':
      return buildNiah({ ...input, config: c });
    case 'variable_tracking':
      return buildVt({ ...input, config: c });
    case 'common_words_extraction':
      return buildCwe({ ...input, config: c });
    case 'freq_words_extraction':
      return buildFwe({ ...input, config: c });
    case 'qa':
      return buildQa({ ...input, config: c });
  }
}
