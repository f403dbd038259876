import type { Rng } from '@ctxlab/niah';
import { fitUnits, PieceTally, type PromptFrame } from '../assemble';
import { format, linePrefixes, NOISE_LINE, splitContext, type TaskInput, type TaskOutput } from './common';
import type { RulerTaskConfig } from './config';

/**
 * RULER's variable tracking (scripts/data/synthetic/variable_tracking.py), noise haystack:
 *  - chains of num_hops+1 distinct variables (5 random capital letters): "VAR X1 = 12345"
 *    (value 10000–99999), then "VAR X{j+1} = VAR X{j} " (RULER keeps that trailing space);
 *  - each chain's lines go, in order, at sorted random line indexes among the noise lines;
 *  - the question asks for every variable holding chain 0's value; the answer prefix says
 *    how many (num_hops+1);
 *  - one in-context example first: the same task at ≤500 tokens with 3-letter variables,
 *    its answer written out, then a blank line. RULER builds that example once and swaps
 *    its names and value per sample with str.replace; ctxlab draws a fresh example per sample
 *    (same shape, no risk of a replace hitting the wrong text).
 */

type VtConfig = Extract<RulerTaskConfig, { family: 'variable_tracking' }>;

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function chains(rng: Rng, numChains: number, numHops: number, letters: number, value?: string): { vars: string[][]; lines: string[][] } {
  const name = () => Array.from({ length: letters }, () => LETTERS[rng.int(0, 25)]).join('');
  const all = new Set<string>();
  while (all.size < numChains * (numHops + 1)) all.add(name());
  const names = [...all];
  const vars: string[][] = [];
  const lines: string[][] = [];
  for (let c = 0; c < numChains; c++) {
    const vs = names.slice(c * (numHops + 1), (c + 1) * (numHops + 1));
    vars.push(vs);
    const chain = [`VAR ${vs[0]} = ${value ?? String(rng.int(10000, 99999))}`];
    for (let j = 0; j < numHops; j++) chain.push(`VAR ${vs[j + 1]} = VAR ${vs[j]} `);
    lines.push(chain);
  }
  return { vars, lines };
}

/** Noise lines with the chains' lines inserted as RULER does (sorted positions, shifted by the lines already in). */
function haystack(n: number, chainLines: string[][], rng: Rng): string[] {
  const sentences = Array.from({ length: n }, () => NOISE_LINE);
  for (const chain of chainLines) {
    const positions = rng
      .sample(
        sentences.map((_s, i) => i),
        chain.length,
      )
      .sort((a, b) => a - b);
    positions.forEach((p, j) => sentences.splice(p + j, 0, chain[j]!));
  }
  return sentences.map((s) => `${s}\n`);
}

export function buildVt(input: TaskInput & { config: VtConfig }): TaskOutput {
  const { num_chains: numChains, num_hops: numHops } = input.config.args;
  const rng = input.rng();
  const main = chains(rng, numChains, numHops, 5);
  const value = main.lines[0]![0]!.split('=').at(-1)!.trim();
  const answers = main.vars[0]!;
  const t = input.config.template;
  const prefixTemplate = input.config.answerPrefix;

  // The in-context example: fitted to ≤500 tokens of text (RULER: max_seq_length=500, no generation).
  const exHops = Math.min(10, numHops);
  const ex = chains(rng, numChains, exHops, 3, String(rng.int(10000, 99999)));
  const exValue = ex.lines[0]![0]!.split('=').at(-1)!.trim();
  const exampleFor = (n: number) => {
    const context = haystack(n, ex.lines, input.drawRng('example', n)).join('').replace(/\n$/, '');
    return format(t, { context, query: exValue }) + format(prefixTemplate, { num_v: exHops + 1, query: exValue });
  };
  let lo = exHops + 1;
  let hi = 256;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (input.tokenizer.count(exampleFor(mid)) <= 500) lo = mid;
    else hi = mid;
  }
  const example = `${exampleFor(lo)} ${ex.vars[0]!.join(' ')}\n`;

  const answerPrefix = format(prefixTemplate, { num_v: numHops + 1, query: value });
  const { before, after } = splitContext(format(t, { query: value }));
  const head = `${example}\n${before}`;
  const tail = after.replace(/^\n/, '');
  const frame: PromptFrame = { tokenizer: input.tokenizer, chatTemplate: input.chatTemplate, answerPrefix };
  const noiseAtoms = linePrefixes(NOISE_LINE, '\n');
  // Running totals for the size search: the chains' lines go in before the last noise line,
  // which always ends the haystack.
  const tally = new PieceTally(frame, head, tail);
  const noise = `${NOISE_LINE}\n`;
  const chainTokens = main.lines.flat().reduce((sum, l) => sum + tally.tokens(`${l}\n`), 0);
  const noiseTokens = tally.tokens(noise);
  const fitted = fitUnits(
    frame,
    {
      minUnits: numHops + 1,
      maxAtoms: 3,
      tokens: (n) => (n < 1 ? undefined : tally.total(chainTokens + n * noiseTokens, noise)),
      build: (n) => {
        const lines = haystack(n, main.lines, input.drawRng('positions', n));
        return { content: [head, ...lines, tail], fillAt: lines.length + 1, data: null };
      },
      atoms: () => noiseAtoms,
    },
    input.target,
  );
  return {
    content: fitted.content,
    answerPrefix,
    answers,
    frame,
    meta: { chains: main.lines, value, noiseLines: fitted.n, exampleNoiseLines: lo, filler: fitted.filler },
  };
}
