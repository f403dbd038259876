import { z } from 'zod';
import { RulerError } from './errors';

/**
 * QA datasets in their native formats, read as RULER reads them (scripts/data/synthetic/qa.py):
 *  - SQuAD (v1.1 or v2.0 JSON): documents are the distinct paragraph contexts, sorted; every
 *    answerable question (v2's is_impossible false; v1 has no such field — RULER's reader
 *    fails on v1 with a KeyError, ctxlab treats it as answerable) with all its answer texts,
 *    its paragraph, and the article's other paragraphs as preferred distractors;
 *  - HotpotQA (the distractor-setting JSON list): documents are "title\n" + the joined
 *    sentences of each context paragraph, sorted; each question's ten paragraphs (two gold,
 *    eight distractors) all travel with it.
 */

export interface QaItem {
  query: string;
  outputs: string[];
  /** Indexes into `documents` that must be in the prompt. */
  context: number[];
  /** Documents preferred as distractors (SQuAD: the same article's other paragraphs). */
  moreContext: number[];
}

export interface QaDataset {
  format: 'squad' | 'hotpotqa';
  documents: string[];
  items: QaItem[];
}

const squadSchema = z.object({
  version: z.string().optional(),
  data: z.array(
    z.object({
      title: z.string(),
      paragraphs: z.array(
        z.object({
          context: z.string(),
          qas: z.array(
            z.object({
              id: z.string(),
              question: z.string(),
              answers: z.array(z.object({ text: z.string(), answer_start: z.number().int() })),
              is_impossible: z.boolean().optional(),
            }),
          ),
        }),
      ),
    }),
  ),
});

const hotpotSchema = z.array(
  z.object({
    _id: z.string(),
    question: z.string(),
    answer: z.string(),
    context: z.array(z.tuple([z.string(), z.array(z.string())])),
  }),
);

function parseWith<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw new RulerError(`${what} file: ${path.replace(/^\./, '') || 'root'}: ${issue.message}`, path.replace(/^\./, '') || undefined);
}

function sortedIndex(docs: Iterable<string>): { documents: string[]; at: Map<string, number> } {
  const documents = [...new Set(docs)].sort();
  return { documents, at: new Map(documents.map((d, i) => [d, i])) };
}

export function parseSquad(json: unknown): QaDataset {
  const data = parseWith(squadSchema, json, 'SQuAD').data;
  const { documents, at } = sortedIndex(data.flatMap((d) => d.paragraphs.map((p) => p.context)));
  const items: QaItem[] = [];
  for (const d of data) {
    const article = d.paragraphs.map((p) => at.get(p.context)!);
    for (const p of d.paragraphs) {
      const own = at.get(p.context)!;
      for (const qa of p.qas) {
        if (qa.is_impossible || qa.answers.length === 0) continue;
        items.push({ query: qa.question, outputs: qa.answers.map((a) => a.text), context: [own], moreContext: article.filter((i) => i !== own) });
      }
    }
  }
  if (items.length === 0) throw new RulerError('SQuAD file: no answerable question', 'data');
  return { format: 'squad', documents, items };
}

export function parseHotpotQA(json: unknown): QaDataset {
  const data = parseWith(hotpotSchema, json, 'HotpotQA');
  const doc = ([title, sentences]: [string, string[]]) => `${title}\n${sentences.join('')}`;
  const { documents, at } = sortedIndex(data.flatMap((d) => d.context.map(doc)));
  const items = data.map((d) => ({ query: d.question, outputs: [d.answer], context: d.context.map((c) => at.get(doc(c))!), moreContext: [] }));
  if (items.length === 0) throw new RulerError('HotpotQA file: no question', 'root');
  return { format: 'hotpotqa', documents, items };
}
