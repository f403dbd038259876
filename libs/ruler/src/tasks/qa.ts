import { fitUnits, type PromptFrame } from '../assemble';
import { RulerError } from '../errors';
import { format, shuffle, splitContext, type TaskInput, type TaskOutput } from './common';
import type { RulerTaskConfig } from './config';

/**
 * RULER's qa_1 (SQuAD) and qa_2 (HotpotQA) (scripts/data/synthetic/qa.py):
 *  - sample i asks question i of the dataset;
 *  - num_docs documents: the question's own, then its preferred distractors (SQuAD: the same
 *    article), then random others; past the whole dataset, the dataset repeated;
 *  - shuffled by a seed-only generator and written "Document {i}:\n{document}", separated
 *    by blank lines; num_docs is the largest that fits;
 *  - scored with string_match_part against all the question's answers.
 * The gap left by the largest num_docs that fits is filled with the opening words of one more
 * distractor document ("Document {n+1}:\n…").
 */

type QaConfig = Extract<RulerTaskConfig, { family: 'qa' }>;

function wordEnds(text: string, max: number): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\S(?=\s|$)/g)) {
    out.push(text.slice(0, m.index + 1));
    if (out.length >= max) break;
  }
  return out;
}

export function buildQa(input: TaskInput & { config: QaConfig }): TaskOutput {
  const data = input.qa;
  const wanted = input.config.args.dataset;
  if (!data) throw new RulerError(`task ${input.config.name} needs a ${wanted === 'squad' ? 'SQuAD' : 'HotpotQA'} dataset`, 'qaDataset');
  if (data.format !== wanted) throw new RulerError(`task ${input.config.name} reads ${wanted}, but the dataset given is ${data.format}`, 'qaDataset');
  const docs = data.documents;
  const item = data.items[input.index % data.items.length]!;
  const own = item.context;
  const more = item.moreContext;

  const pick = (n: number): number[] => {
    if (n >= docs.length) {
      const all: number[] = [];
      while (all.length < n) all.push(...docs.map((_d, i) => i));
      return all.slice(0, n);
    }
    const r = input.drawRng('documents', n);
    if (n - own.length > more.length) {
      const taken = new Set([...own, ...more]);
      const others = docs.map((_d, i) => i).filter((i) => !taken.has(i));
      return [...own, ...more, ...r.sample(others, n - own.length - more.length)];
    }
    return [...own, ...r.sample(more, n - own.length)];
  };

  const { before, after } = splitContext(format(input.config.template, { query: item.query }));
  const tail = after.replace(/^\n\n/, '');
  const answerPrefix = input.config.answerPrefix;
  const frame: PromptFrame = { tokenizer: input.tokenizer, chatTemplate: input.chatTemplate, answerPrefix };
  const distractors = docs.map((_d, i) => i).filter((i) => !own.includes(i));
  const fillerDocs = distractors.length ? distractors : docs.map((_d, i) => i);

  const fitted = fitUnits(
    frame,
    {
      minUnits: own.length,
      maxAtoms: 3,
      build: (n) => {
        const chosen = shuffle(pick(n), input.fixedRng(`documents-${n}`));
        const pieces = chosen.flatMap((d, i) => [`Document ${i + 1}:\n`, `${docs[d]!}\n\n`]);
        return { content: [before, ...pieces, tail], fillAt: pieces.length + 1, data: chosen };
      },
      atoms: (n, slot) => {
        const d = fillerDocs[input.drawRng('filler', slot).int(0, fillerDocs.length - 1)]!;
        return wordEnds(docs[d]!, 160).map((p) => `Document ${n + slot + 1}:\n${p}\n\n`);
      },
    },
    input.target,
  );
  return {
    content: fitted.content,
    answerPrefix,
    answers: item.outputs,
    frame,
    meta: { query: item.query, documents: fitted.n, goldPositions: own.map((g) => fitted.data.indexOf(g) + 1), filler: fitted.filler.length },
  };
}
