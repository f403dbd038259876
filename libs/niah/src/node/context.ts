import type { NiahSpecInput } from '@ctxlab/contracts';
import { getTokenizer } from '@ctxlab/tokenizers';
import { generateNiahCells, type GenerateOptions, type NiahCell, type NiahContext, planNiahCells, resolveNiahSpec, type ResolvedNiahSpec } from '../engine';
import { loadDefaultCorpus } from './default-corpora';

/** Tokenizer and default corpus for a resolved spec (user corpora: build the context yourself). */
export function loadNiahContext(spec: Pick<ResolvedNiahSpec, 'corpus' | 'tokenizer'>): NiahContext {
  return { corpus: loadDefaultCorpus(spec.corpus), tokenizer: getTokenizer(spec.tokenizer) };
}

/**
 * One call from a spec to prompts: resolves the spec, loads the tokenizer and default corpus,
 * and returns the sweep plan plus a lazy generator of built cells in that order.
 */
export function niahCellsForSpec(
  input: NiahSpecInput,
  opts: GenerateOptions = {},
): { spec: ResolvedNiahSpec; context: NiahContext; plan: ReturnType<typeof planNiahCells>; cells: Generator<NiahCell> } {
  const spec = resolveNiahSpec(input);
  const context = loadNiahContext(spec);
  const plan = opts.cells ? [...opts.cells] : planNiahCells(spec);
  return { spec, context, plan, cells: generateNiahCells(spec, context, { ...opts, cells: plan }) };
}
