import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict';

let instance: Jieba | undefined;

/** Runs of these tokens are re-split as Python jieba's finalseg does. */
const ALNUM_RUN = /^[a-zA-Z0-9.%-]+$/;
/** jieba 0.42.1 finalseg/__init__.py `re_skip`; jieba-rs has the "." unescaped, so "GPT-4" stays whole. */
const RE_SKIP = /([a-zA-Z0-9]+(?:\.\d+)?%?)/;

/**
 * `list(jieba.cut(text, cut_all=False))` (accurate mode, HMM on) through @node-rs/jieba (jieba-rs)
 * with jieba's dictionary. jieba-rs splits runs of letters/digits with `[a-zA-Z0-9]+(?:.\d+)?%?`
 * where Python jieba 0.42.1 uses `(?:\.\d+)?`, so "GPT-4", "COVID-19", "3-5" came back whole where
 * Python gives "GPT", "-", "4": such runs of tokens are joined and re-split with Python's pattern.
 * Its dictionary lacks one line of Python's dict.txt ("B超 3 n"); HMM still cuts "B超" alike.
 */
export function jiebaCut(text: string): string[] {
  instance ??= Jieba.withDict(dict);
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => {
    const joined = run.join('');
    if (/[-.]/.test(joined)) out.push(...joined.split(RE_SKIP).filter((p) => p.length > 0));
    else out.push(...run);
    run = [];
  };
  for (const token of instance.cut(text, true)) {
    if (ALNUM_RUN.test(token)) {
      run.push(token);
      continue;
    }
    flush();
    out.push(token);
  }
  flush();
  return out;
}
