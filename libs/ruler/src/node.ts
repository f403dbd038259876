/** Node-only helpers (file system): import from '@ctxlab/ruler/node'. */
import { readFileSync } from 'node:fs';
import { RulerError } from './errors';
import { parseHotpotQA, parseSquad, type QaDataset } from './qa-data';
import { parseWordList, type WordLists } from './words';

/** Debian's wamerican list; the project's setup installs it. */
export const DEFAULT_WORD_LIST = '/usr/share/dict/words';

const wordCache = new Map<string, WordLists>();

export function loadWordLists(path = DEFAULT_WORD_LIST): WordLists {
  const hit = wordCache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RulerError(`cannot read the word list ${path} (Debian/Ubuntu: apt-get install wamerican): ${(e as Error).message}`, 'words');
  }
  const lists = parseWordList(text);
  wordCache.set(path, lists);
  return lists;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RulerError(`cannot read ${what} file ${path}: ${(e as Error).message}`, 'qaDataset');
  }
}

export const loadSquadFile = (path: string): QaDataset => parseSquad(readJson(path, 'SQuAD'));
export const loadHotpotQAFile = (path: string): QaDataset => parseHotpotQA(readJson(path, 'HotpotQA'));
