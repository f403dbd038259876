import { contextLabel, type Dtype, type ModelConfig, type RopeScaling } from '@ctxlab/contracts';
import { kvBytesPerToken } from '@ctxlab/longctx';
import { heatmapSvg } from '@ctxlab/niah';
import { cell, code, fenced, fmtBytes, fmtDate, fmtExp, fmtNumber, fmtSigned, fmtTokens, fmtValue, linkText, oneLine, shellCommand, slugify, table, type Align } from './markdown';
import { datasetHubId, evaluationDataset, suiteName } from './metadata';
import type { CardDataset, CardEvaluation, CardFile, CardHeatmap, CardRecipe, CardScorecard, CardServing } from './types';

// The Markdown sections both card kinds share. Each returns null when it has nothing concrete to
// say, so a card never carries an empty heading.

/** A Hub repo id as a link to its page; anything else (a registry name) in code style. */
export function repoRef(name: string, hfName?: string): string {
  if (hfName) return `[${linkText(hfName)}](https://huggingface.co/${hfName})`;
  return code(name);
}

/** A two-column "what | value" table, rows without a value left out. */
export function factsTable(rows: [string, string | number | null | undefined][]): string {
  const kept = rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
  return table(['Property', 'Value'], kept);
}

export function ropeScalingText(s: RopeScaling | null): string {
  if (!s) return 'none';
  switch (s.type) {
    case 'linear':
    case 'dynamic':
      return `${s.type}, factor ${fmtNumber(s.factor)}`;
    case 'yarn':
      return `yarn, factor ${fmtNumber(s.factor)}, original ${fmtTokens(s.originalMaxPositionEmbeddings)}`;
    case 'llama3':
      return `llama3, factor ${fmtNumber(s.factor)}, low/high frequency factors ${fmtNumber(s.lowFreqFactor)}/${fmtNumber(s.highFreqFactor)}, original ${fmtTokens(s.originalMaxPositionEmbeddings)}`;
  }
}

/** Columns of a table whose every row is empty are dropped: a column of dashes says nothing. */
function sparseTable(columns: { header: string; align?: Align; value: (i: number) => string | number | null | undefined }[], n: number): string {
  const kept = columns.filter((c) => Array.from({ length: n }, (_, i) => c.value(i)).some((v) => v !== null && v !== undefined && v !== ''));
  return table(
    kept.map((c) => c.header),
    Array.from({ length: n }, (_, i) => kept.map((c) => c.value(i))),
    kept.map((c) => c.align ?? 'left'),
  );
}

export function recipeSection(recipe: CardRecipe, parentName: string | undefined): string {
  const out: string[] = [];
  const version = recipe.version === undefined ? '' : `, version ${recipe.version}`;
  const how = [recipe.method && `method ${code(recipe.method)}`, recipe.trainer && `trainer ${code(recipe.trainer)}`].filter(Boolean).join(', ');
  out.push(`### Recipe ${code(recipe.name)}${version}`);
  if (recipe.stages.length > 1) {
    const first = recipe.stages[0]!;
    const last = recipe.stages[recipe.stages.length - 1]!;
    out.push(
      `A progressive recipe of ${recipe.stages.length} stages, each raising the RoPE base and the training sequence length together: ` +
        `${recipe.stages.map((s) => contextLabel(s.seqLength)).join(' → ')} tokens, θ ${fmtNumber(first.ropeTheta)} → ${fmtNumber(last.ropeTheta)}` +
        `${how ? ` (${how})` : ''}. Each stage starts from the previous stage's weights.`,
    );
  } else if (recipe.stages.length === 1) {
    const s = recipe.stages[0]!;
    out.push(`A single stage at ${fmtTokens(s.seqLength)} tokens with RoPE θ ${fmtNumber(s.ropeTheta)}${how ? ` (${how})` : ''}.`);
  }
  if (recipe.description) out.push(recipe.description.trim());
  const st = recipe.stages;
  if (st.length) {
    const s = (i: number) => st[i]!;
    out.push(
      sparseTable(
        [
          { header: '#', align: 'right', value: (i) => s(i).index ?? i + 1 },
          { header: 'Stage', value: (i) => s(i).name },
          { header: 'Initialized from', value: (i) => s(i).initializedFrom ?? (i === 0 ? parentName : st[i - 1]!.name) },
          { header: 'Sequence length', align: 'right', value: (i) => fmtTokens(s(i).seqLength) },
          { header: 'RoPE θ', align: 'right', value: (i) => fmtNumber(s(i).ropeTheta) },
          { header: 'Steps', align: 'right', value: (i) => s(i).steps },
          { header: 'Batch (sequences)', align: 'right', value: (i) => s(i).batchSize },
          { header: 'Batch (tokens/step)', align: 'right', value: (i) => s(i).batchTokens },
          { header: 'Total tokens', align: 'right', value: (i) => s(i).totalTokens },
          { header: 'Learning rate', align: 'right', value: (i) => (s(i).learningRate === undefined ? undefined : fmtExp(s(i).learningRate!)) },
          { header: 'GPUs', value: (i) => gpus(s(i).gpus, s(i).gpuType) },
          { header: 'Wall time', align: 'right', value: (i) => (s(i).wallMinutes === undefined ? undefined : `${fmtNumber(s(i).wallMinutes!)} min`) },
          { header: 'Result', value: (i) => { const r = s(i).result; return r ? `${r.label}: ${fmtValue(r.value, r.unit)}` : undefined; } },
        ],
        st.length,
      ),
    );
  }
  return out.join('\n\n');
}

function gpus(count: number | undefined, type: string | undefined): string | undefined {
  if (count === undefined && !type) return undefined;
  if (count === undefined) return type;
  return type ? `${fmtNumber(count)} × ${type}` : fmtNumber(count);
}

export function dataSection(data: readonly CardDataset[]): string {
  const out = ['### Data'];
  const total = data.reduce((t, d) => t + (d.tokens ?? 0), 0);
  const allCounted = data.every((d) => d.tokens !== undefined);
  out.push(
    sparseTable(
      [
        { header: 'Dataset', value: (i) => data[i]!.name },
        { header: 'Hub id', value: (i) => { const id = datasetHubId(data[i]!); return id ? `[${linkText(id)}](https://huggingface.co/datasets/${id})` : undefined; } },
        { header: 'Location', value: (i) => (data[i]!.uri && !datasetHubId(data[i]!) ? code(data[i]!.uri!) : undefined) },
        { header: 'Tokens', align: 'right', value: (i) => data[i]!.tokens },
        { header: 'Samples', align: 'right', value: (i) => data[i]!.samples },
        { header: 'Note', value: (i) => data[i]!.note },
      ],
      data.length,
    ),
  );
  if (total > 0 && data.length > 1) out.push(`${allCounted ? 'In all' : 'Counted datasets total'} ${fmtNumber(total)} tokens.`);
  return out.join('\n\n');
}

/** Suites in the order they first appear, each with its rows. */
function bySuite(evals: readonly CardEvaluation[]): [string, CardEvaluation[]][] {
  const groups = new Map<string, CardEvaluation[]>();
  for (const e of evals) {
    const g = groups.get(e.suite);
    if (g) g.push(e);
    else groups.set(e.suite, [e]);
  }
  return [...groups];
}

/** Unique heatmap file names: niah-<slug>.svg, numbered when two titles slug alike. */
export function heatmapFiles(heatmaps: readonly CardHeatmap[]): { heatmap: CardHeatmap; file: CardFile }[] {
  const used = new Set<string>();
  return heatmaps.map((h) => {
    // The file is already prefixed niah-: a title that starts with "NIAH" would say it twice.
    const base = h.slug ? slugify(h.slug) : slugify(h.title).replace(/^niah-(?=.)/, '');
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
    used.add(slug);
    // uid keeps the SVG's pattern and gradient ids distinct when a page shows several of them inline.
    const content = heatmapSvg(h.data, { title: oneLine(h.title), uid: slug });
    return { heatmap: h, file: { name: `niah-${slug}.svg`, content, mediaType: 'image/svg+xml' } };
  });
}

export function evaluationSection(o: {
  evaluations: readonly CardEvaluation[];
  heatmaps: readonly { heatmap: CardHeatmap; file: CardFile }[];
  scorecard: CardScorecard | undefined;
}): string | null {
  const out: string[] = [];
  for (const [suite, rows] of bySuite(o.evaluations)) {
    out.push(`### ${suiteName(suite)}`);
    const r = (i: number) => rows[i]!;
    out.push(
      sparseTable(
        [
          { header: 'Measure', value: (i) => r(i).label },
          { header: 'Task', value: (i) => r(i).task },
          { header: 'Metric', value: (i) => code(r(i).metric) },
          { header: 'Value', align: 'right', value: (i) => fmtValue(r(i).value, r(i).unit) },
          { header: 'Context', align: 'right', value: (i) => (r(i).contextLength === undefined ? undefined : fmtTokens(r(i).contextLength!)) },
          { header: 'Shots', align: 'right', value: (i) => r(i).shots },
          { header: 'Dataset', value: (i) => datasetText(r(i)) },
          { header: 'Evaluated', value: (i) => (r(i).evaluatedAt === undefined ? undefined : fmtDate(r(i).evaluatedAt!)) },
          { header: 'Eval run', value: (i) => runText(r(i)) },
        ],
        rows.length,
      ),
    );
  }
  if (o.heatmaps.length) {
    out.push('### Needle-in-a-haystack heatmaps');
    out.push(
      'Each cell is the retrieval score (0–100) for one context length (x axis) and needle depth (y axis, 0% = the start of the context); ' +
        'hatched grey cells have no score (not run, or every request failed), which is not the same as a score of 0.',
    );
    for (const { heatmap: h, file } of o.heatmaps) {
      const d = h.data;
      const facts = [
        d.average === null ? 'no cell scored' : `average ${fmtNumber(Number(d.average.toFixed(2)))}`,
        `${fmtNumber(d.lengths.length)} lengths${d.lengths.length ? ` (${contextLabel(d.lengths[0]!)}–${contextLabel(d.lengths[d.lengths.length - 1]!)})` : ''}`,
        `${fmtNumber(d.depths.length)} depths`,
        `${fmtNumber(d.scored)} scored samples`,
        d.failed ? `${fmtNumber(d.failed)} failed` : null,
      ].filter(Boolean);
      out.push(`![${linkText(h.title)}](${file.name})\n\n*${linkText(h.title)}: ${facts.join(', ')}.*${h.caption ? ` ${h.caption.trim()}` : ''}`);
    }
  }
  if (o.scorecard && o.scorecard.rows.length) out.push(scorecardSection(o.scorecard));
  return out.length ? out.join('\n\n') : null;
}

function datasetText(e: CardEvaluation): string {
  const ds = evaluationDataset(e);
  const hub = ds.type.includes('/') ? `[${linkText(ds.name)}](https://huggingface.co/datasets/${ds.type})` : ds.name;
  return [hub, ds.config && code(ds.config), ds.split].filter(Boolean).join(', ');
}

function runText(e: CardEvaluation): string | undefined {
  if (!e.source) return undefined;
  return e.source.url ? `[${linkText(e.source.runId)}](${e.source.url})` : code(e.source.runId);
}

function scorecardSection(s: CardScorecard): string {
  const rows = s.rows;
  const r = (i: number) => rows[i]!;
  const verdicts = rows.map((x) => x.verdict);
  const count = (v: string) => verdicts.filter((x) => x === v).length;
  const tally = ['better', 'worse', 'no clear difference', 'not comparable']
    .map((v) => [v, count(v)] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(', ');
  return [
    `### Compared with ${code(s.against)}`,
    `This model against ${code(s.against)} on the same evaluations${s.method ? ` (${s.method})` : ''}: ${tally}. ` +
      'A verdict of "better" or "worse" means the interval of the difference excludes zero; "no clear difference" means it does not.',
    sparseTable(
      [
        { header: 'Measure', value: (i) => r(i).label },
        { header: 'This model', align: 'right', value: (i) => fmtValue(r(i).model, r(i).unit) },
        { header: s.against, align: 'right', value: (i) => fmtValue(r(i).parent, r(i).unit) },
        { header: 'Difference', align: 'right', value: (i) => fmtSigned(r(i).difference, r(i).unit) },
        { header: 'Interval', align: 'right', value: (i) => { const iv = r(i).interval; return iv ? `[${fmtSigned(iv.low)}, ${fmtSigned(iv.high)}]` : null; } },
        { header: 'Verdict', value: (i) => r(i).verdict },
        { header: 'Flag', value: (i) => (r(i).flag ? `⚠ ${r(i).flag}` : undefined) },
      ],
      rows.length,
    ),
  ].join('\n\n');
}

/** The argv a card prints when the caller gave settings but no command. */
function servingArgv(model: string, s: CardServing): string[] {
  const argv = ['vllm', 'serve', model];
  if (s.tensorParallelSize !== undefined) argv.push('--tensor-parallel-size', String(s.tensorParallelSize));
  if (s.maxModelLen !== undefined) argv.push('--max-model-len', String(s.maxModelLen));
  if (s.gpuMemoryUtilization !== undefined) argv.push('--gpu-memory-utilization', String(s.gpuMemoryUtilization));
  if (s.kvCacheDtype !== undefined && s.kvCacheDtype !== 'auto') argv.push('--kv-cache-dtype', s.kvCacheDtype);
  if (s.maxNumBatchedTokens !== undefined) argv.push('--max-num-batched-tokens', String(s.maxNumBatchedTokens));
  if (s.maxNumSeqs !== undefined) argv.push('--max-num-seqs', String(s.maxNumSeqs));
  if (s.enableChunkedPrefill) argv.push('--enable-chunked-prefill');
  if (s.enforceEager) argv.push('--enforce-eager');
  if (s.trustRemoteCode) argv.push('--trust-remote-code');
  return argv;
}

const yesNo = (b: boolean | undefined) => (b === undefined ? undefined : b ? 'yes' : 'no');

/** KV bytes per token as vLLM stores them: fp8 when asked, else the served dtype (fp32 checkpoints run in fp16). */
function kvDtype(config: ModelConfig, kv: string | undefined): Dtype {
  if (kv?.startsWith('fp8')) return 'fp8';
  return config.dtype === 'fp32' ? 'fp16' : config.dtype;
}

export function servingSection(model: string, config: ModelConfig, s: CardServing): string {
  const out: string[] = [];
  const maxModelLen = s.maxModelLen;
  out.push(
    factsTable([
      ['Max model length (`--max-model-len`)', maxModelLen === undefined ? undefined : fmtTokens(maxModelLen)],
      ['Tensor parallel size', s.tensorParallelSize],
      ['GPUs', gpus(s.gpuCount ?? s.tensorParallelSize, s.gpuType)],
      ['GPU memory utilisation', s.gpuMemoryUtilization],
      ['KV cache dtype', s.kvCacheDtype],
      ['Max batched tokens', s.maxNumBatchedTokens],
      ['Max sequences', s.maxNumSeqs],
      ['Chunked prefill', yesNo(s.enableChunkedPrefill)],
      ['Eager mode (no CUDA graphs)', yesNo(s.enforceEager)],
      ['Trust remote code', yesNo(s.trustRemoteCode)],
    ]),
  );
  const env = { ...(s.env ?? {}) };
  let command: string;
  if (typeof s.command === 'string') command = s.command.trim();
  else {
    // vLLM refuses a max-model-len beyond the config's max_position_embeddings unless told to allow it.
    if (!s.command && maxModelLen !== undefined && maxModelLen > config.maxPositionEmbeddings) env.VLLM_ALLOW_LONG_MAX_MODEL_LEN ??= '1';
    command = shellCommand(s.command ?? servingArgv(model, s), env);
  }
  if (typeof s.command === 'string' && Object.keys(env).length) command = shellCommand([], env).trimEnd() + ' ' + command;
  out.push(fenced('bash', command));
  const notes: string[] = [];
  if (maxModelLen !== undefined) {
    const dtype = kvDtype(config, s.kvCacheDtype);
    const perToken = kvBytesPerToken(config, dtype);
    const tp = s.tensorParallelSize ?? 1;
    notes.push(
      `The KV cache takes ${fmtBytes(perToken)} per token in ${dtype} (${config.numLayers} layers × ${config.numKeyValueHeads} KV heads × head dim ${config.headDim} × K and V), ` +
        `so one ${contextLabel(maxModelLen)}-token sequence needs ${fmtBytes(perToken * maxModelLen)} of KV cache${tp > 1 ? ` across the ${tp} GPUs` : ''}.`,
    );
    if (maxModelLen > config.maxPositionEmbeddings) {
      notes.push(
        `\`--max-model-len\` ${fmtNumber(maxModelLen)} exceeds the config's max_position_embeddings ${fmtNumber(config.maxPositionEmbeddings)}; vLLM accepts it only with VLLM_ALLOW_LONG_MAX_MODEL_LEN=1, and quality past the trained length is not established.`,
      );
    }
  }
  for (const n of s.notes ?? []) notes.push(n.trim());
  if (notes.length) out.push(notes.map((n) => `- ${n.replace(/\n+/g, ' ')}`).join('\n'));
  return out.join('\n\n');
}

/** Limitations the card can state from its facts: scorecard flags, untested context, the caller's own. */
export function limitationsSection(o: {
  scorecard: CardScorecard | undefined;
  evaluations: readonly CardEvaluation[];
  heatmaps: readonly CardHeatmap[];
  contextLength: number | undefined;
  extra: readonly string[];
}): string | null {
  const items: string[] = [];
  for (const r of o.scorecard?.rows ?? []) {
    if (r.flag) items.push(`**${cell(r.label)}**: ${r.flag.replace(/\.$/, '')}. This model scores ${fmtValue(r.model, r.unit)} against ${fmtValue(r.parent, r.unit)} for ${code(o.scorecard!.against)}.`);
  }
  if (o.contextLength !== undefined) {
    const measured = [...o.evaluations.map((e) => e.contextLength), ...o.heatmaps.map((h) => (h.data.lengths.length ? Math.max(...h.data.lengths) : undefined))].filter(
      (x): x is number => x !== undefined,
    );
    const longest = measured.length ? Math.max(...measured) : undefined;
    if (longest !== undefined && longest < o.contextLength) {
      items.push(`Evaluated up to ${fmtTokens(longest)} tokens only; behaviour between that and the configured ${fmtTokens(o.contextLength)} is unmeasured.`);
    }
  }
  for (const x of o.extra) items.push(x.trim().replace(/\n+/g, ' '));
  return items.length ? items.map((i) => `- ${i}`).join('\n') : null;
}

/** A relative's line in the lineage list. */
export function relativeLine(r: { name: string; hfName?: string | undefined; relation: string; note?: string | undefined }): string {
  const who = r.hfName && r.hfName !== r.name ? `${code(r.name)} (${repoRef(r.name, r.hfName)})` : repoRef(r.name, r.hfName);
  return `- ${who} — ${r.relation.replace(/-/g, ' ')}${r.note ? `: ${oneLine(r.note)}` : ''}`;
}
