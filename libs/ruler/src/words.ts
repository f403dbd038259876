import { RulerError } from './errors';

/**
 * English words for RULER's keys and for cwe.
 *
 * RULER draws them from the `wonderwords` package: ~6,800 nouns, ~900 adjectives and ~1,000
 * verbs, common lowercase base forms (niah keys are "adjective-noun"; cwe samples from nouns,
 * adjectives and verbs together). ctxlab reads a real English word list instead — Debian's
 * wamerican (/usr/share/dict/words) — and filters it to approximate those lists:
 *  - lowercase ASCII letters only, 3–12 letters: drops proper nouns, possessives ("'s"),
 *    accented loan words and very long rarities;
 *  - base forms only: a word is dropped when removing an inflection (-s, -es, -ies→y, -ed,
 *    -ing, -ly, -er, -est, and -ied/-ier/-iest/-ily for -y) leaves another word of the list, as wonderwords lists lemmas;
 *  - adjectives by suffix (-ous, -ful, -ive, -able, -ible, -al, -ic, -less, -ish, -ary, -ent,
 *    -ant, but not -ment), nouns all the rest: a part-of-speech tagger would do better, the
 *    keys only need to read as two plain words joined by a hyphen.
 * From wamerican 2020.12 that leaves ~29,900 words, ~3,900 of them adjectives.
 */
export interface WordLists {
  /** Every kept word, in the list's (alphabetical) order. */
  words: readonly string[];
  adjectives: readonly string[];
  nouns: readonly string[];
}

const INFLECTIONS: [suffix: string, replacement: string][] = [
  ['ies', 'y'],
  ['ied', 'y'],
  ['ier', 'y'],
  ['iest', 'y'],
  ['ily', 'y'],
  ['es', ''],
  ['s', ''],
  ['ed', ''],
  ['ed', 'e'],
  ['ing', ''],
  ['ing', 'e'],
  ['ly', ''],
  ['er', ''],
  ['est', ''],
];

const ADJECTIVE = /(?:ous|ful|ive|able|ible|al|ic|less|ish|ary|ent|ant)$/;

export function parseWordList(text: string): WordLists {
  const all = new Set<string>();
  for (const line of text.split('\n')) {
    const w = line.trim();
    if (/^[a-z]{3,12}$/.test(w)) all.add(w);
  }
  const inflected = (w: string) =>
    INFLECTIONS.some(([suffix, rep]) => w.endsWith(suffix) && w.length - suffix.length >= 3 && all.has(w.slice(0, -suffix.length) + rep));
  const words = [...all].filter((w) => !inflected(w)).sort();
  if (words.length < 1000) {
    throw new RulerError(`the word list has only ${words.length} usable words (lowercase, 3–12 letters, base forms); RULER needs thousands`, 'words');
  }
  const adjectives = words.filter((w) => ADJECTIVE.test(w) && !w.endsWith('ment'));
  const adj = new Set(adjectives);
  return { words, adjectives, nouns: words.filter((w) => !adj.has(w)) };
}
