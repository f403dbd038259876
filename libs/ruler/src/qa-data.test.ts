import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHotpotQA, parseSquad } from './qa-data';

const fixture = (name: string) => JSON.parse(readFileSync(resolve(import.meta.dirname, 'testing/fixtures', name), 'utf8')) as unknown;

/*
 * Expected values: RULER's read_squad and read_hotpotqa (NVIDIA/RULER
 * scripts/data/synthetic/qa.py, commit c3f5e3b), extracted with Python's ast and run on these
 * same fixture files, printed the documents (sorted) and the question records below.
 */
describe('QA datasets', () => {
  it('reads SQuAD v2 as RULER does: sorted distinct paragraphs, answerable questions, same-article distractors', () => {
    const d = parseSquad(fixture('squad-v2.json'));
    expect(d.documents.map((x) => x.slice(0, 30))).toEqual(['A lighthouse is a tower built ', 'A typical sourdough loaf needs', 'Modern lighthouses use electri', 'Sourdough bread rises without ']);
    expect(d.items).toEqual([
      { query: 'In what year was the oldest northern lighthouse first lit?', outputs: ['1821'], context: [0], moreContext: [2] },
      { query: 'Who kept the log of passing ships?', outputs: ['Martha Quill', 'Martha Quill'], context: [0], moreContext: [2] },
      { query: 'Who invented the Fresnel lens?', outputs: ['Augustin Fresnel'], context: [2], moreContext: [0] },
      { query: 'What gives sourdough its sour taste?', outputs: ['lactic acid bacteria', 'wild yeast and lactic acid bacteria'], context: [3], moreContext: [1] },
      { query: 'How many hours of fermentation does a typical sourdough loaf need?', outputs: ['twelve hours', 'twelve'], context: [1], moreContext: [3] },
    ]);
  });

  it('reads SQuAD v1.1 (no is_impossible field) where RULER fails with a KeyError', () => {
    const v1 = { version: '1.1', data: [{ title: 'T', paragraphs: [{ context: 'Paris is in France.', qas: [{ id: 'q', question: 'Where is Paris?', answers: [{ text: 'France', answer_start: 12 }] }] }] }] };
    expect(parseSquad(v1).items).toHaveLength(1);
  });

  it('reads HotpotQA as RULER does: "title\\n" + sentences, all ten paragraphs kept with the question', () => {
    const d = parseHotpotQA(fixture('hotpotqa.json'));
    expect(d.documents.map((x) => x.slice(0, 30))).toEqual([
      'Carrow\nCarrow is a fishing tow',
      'Elin Voss\nElin Voss is a novel',
      'Fenwick Bridge\nThe Fenwick Bri',
      'Harbor Street Press\nHarbor Str',
      'Oram Viaduct\nThe Oram Viaduct ',
      'River Dane\nThe river Dane rise',
      'The Salt Ledger\nThe Salt Ledge',
    ]);
    expect(d.items.map((i) => [i.outputs, i.context])).toEqual([
      [['Harbor Street Press'], [1, 6, 0, 3]],
      [['yes'], [2, 4, 5, 0]],
    ]);
  });

  it('names the field and index of a malformed record', () => {
    const bad = fixture('squad-v2.json') as { data: { paragraphs: { qas: { question: unknown }[] }[] }[] };
    bad.data[1]!.paragraphs[0]!.qas[0]!.question = 42;
    expect(() => parseSquad(bad)).toThrow(/SQuAD file: data\[1\]\.paragraphs\[0\]\.qas\[0\]\.question/);
    expect(() => parseHotpotQA([{ _id: 'x', question: 'q', context: [] }])).toThrow(/HotpotQA file: \[0\]\.answer/);
    expect(() => parseSquad({ data: [] })).toThrow(/no answerable question/);
  });
});
