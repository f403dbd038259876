import type { LineageKind } from '@ctxlab/contracts';
import { paramCount } from '@ctxlab/longctx';
import { code, fenced, fmtBytes, fmtDate, fmtNumber, fmtParams, fmtTokens, oneLine, shellCommand, table } from './markdown';
import { baseModelRelation, frontMatter, frontMatterData, hubName } from './metadata';
import {
  dataSection,
  evaluationSection,
  factsTable,
  heatmapFiles,
  limitationsSection,
  recipeSection,
  relativeLine,
  repoRef,
  ropeScalingText,
  servingSection,
} from './sections';
import type { AdapterCardInput, CardFile, ModelCardInput, RenderedCard } from './types';

/** How a child came from its parent, as the summary line says it. */
const RELATION_VERB: Readonly<Record<LineageKind, string>> = {
  'context-extension': 'context-extended from',
  finetune: 'fine-tuned from',
  'lora-extract': 'extracted from',
  'lora-merge': 'a LoRA merge onto',
  quantize: 'quantized from',
};

function sections(parts: [string, string | null][]): string {
  return parts
    .filter((p): p is [string, string] => p[1] !== null && p[1].trim() !== '')
    .map(([h, b]) => `## ${h}\n\n${b.trim()}`)
    .join('\n\n');
}

function assemble(data: Record<string, unknown>, head: string[], body: string, files: CardFile[]): RenderedCard {
  const text = [...head.filter((x) => x.trim() !== ''), body].filter(Boolean).join('\n\n');
  return { readme: `${frontMatter(data)}\n${text.trimEnd()}\n`, files };
}

/**
 * A model's Hugging Face card: README.md with the Hub's YAML metadata, and the files it links to
 * (NIAH heatmaps as SVG). Pure: the caller writes the files.
 */
export function renderModelCard(input: ModelCardInput): RenderedCard {
  const c = input.config;
  const parents = input.parents ?? [];
  const children = input.children ?? [];
  const adapters = input.adapters ?? [];
  const evaluations = input.evaluations ?? [];
  const heatmaps = heatmapFiles(input.heatmaps ?? []);
  const relation = input.baseModelRelation ?? baseModelRelation(parents);
  const data = frontMatterData({
    ...input,
    baseModels: parents.map(hubName),
    relation,
    datasets: input.trainingData,
    evaluations,
    defaultLibrary: 'transformers',
  });

  const title = oneLine(input.displayName ?? input.name);
  const params = input.parameterCount ?? paramCount(c).total;
  const summary = [
    `**Context:** ${fmtTokens(c.maxPositionEmbeddings)} tokens`,
    `**RoPE θ:** ${fmtNumber(c.ropeTheta)}${c.ropeScaling ? ` (${c.ropeScaling.type} scaling)` : ''}`,
    `**Parameters:** ${fmtParams(params)}`,
    ...parents.map((p) => `**${RELATION_VERB[p.relation].replace(/^./, (ch) => ch.toUpperCase())}:** ${repoRef(p.name, p.hfName ?? p.hubAncestor)}`),
  ].join(' · ');

  const details = factsTable([
    ['Registry name', code(input.name)],
    ['Hub repository', input.hfName ? repoRef(input.hfName, input.hfName) : undefined],
    ['Family', input.family],
    ['Architecture', c.architecture],
    ['Parameters', `${fmtParams(params)}${input.parameterCount === undefined ? ', computed from the configuration' : ''}`],
    ['Layers', c.numLayers],
    ['Hidden size', c.hiddenSize],
    ['Intermediate size', c.intermediateSize],
    ['Attention heads', c.numAttentionHeads],
    [
      'Key/value heads',
      c.numKeyValueHeads === c.numAttentionHeads ? `${fmtNumber(c.numKeyValueHeads)} (multi-head)` : `${fmtNumber(c.numKeyValueHeads)} (grouped-query, ${c.numAttentionHeads / c.numKeyValueHeads} query heads each)`,
    ],
    ['Head dimension', c.headDim],
    ['Vocabulary', c.vocabSize],
    ['RoPE θ (`rope_theta`)', fmtNumber(c.ropeTheta)],
    ['RoPE scaling', ropeScalingText(c.ropeScaling)],
    ['Max position embeddings', fmtTokens(c.maxPositionEmbeddings)],
    ['Sliding window', c.slidingWindow ? fmtTokens(c.slidingWindow) : undefined],
    ['Tied embeddings', c.tieWordEmbeddings ? 'yes' : 'no'],
    ['Weights dtype', c.dtype],
    ['Tokenizer', code(c.tokenizer)],
    ['Created', input.createdAt === undefined ? undefined : fmtDate(input.createdAt)],
  ]);

  const lineage: string[] = [];
  if (parents.length) lineage.push(`**Parents**\n\n${parents.map(relativeLine).join('\n')}`);
  if (children.length) lineage.push(`**Derived models**\n\n${children.map(relativeLine).join('\n')}`);
  if (adapters.length) {
    lineage.push(
      `**LoRA adapters**\n\n${table(
        ['Adapter', 'Relation', 'Base', 'Rank', 'Alpha', 'Target modules', 'Note'],
        adapters.map((a) => [
          repoRef(a.name, a.hfName),
          a.direction === 'extracted-from' ? 'extracted from this model' : 'merged into this model',
          code(a.base),
          a.rank,
          a.alpha,
          a.targetModules.map(code).join(', '),
          a.note,
        ]),
        ['left', 'left', 'left', 'right', 'right', 'left', 'left'],
      )}`,
    );
  }
  if (input.recipe) {
    const r = input.recipe;
    lineage.push(`Trained by the recipe ${code(r.name)}${r.version === undefined ? '' : ` (version ${r.version})`}; its stages are listed under Training.`);
  }

  const firstParent = parents[0];
  const training: string[] = [];
  if (input.recipe) training.push(recipeSection(input.recipe, firstParent ? hubName(firstParent) : undefined));
  if (input.trainingData?.length) training.push(dataSection(input.trainingData));

  const body = sections([
    ['Model details', details],
    ['Lineage', lineage.join('\n\n') || null],
    ['Training', training.join('\n\n') || null],
    ['Evaluation', evaluationSection({ evaluations, heatmaps, scorecard: input.scorecard })],
    ['Serving', input.serving ? servingSection(input.hfName ?? input.name, c, input.serving) : null],
    [
      'Limitations',
      limitationsSection({ scorecard: input.scorecard, evaluations, heatmaps: input.heatmaps ?? [], contextLength: c.maxPositionEmbeddings, extra: input.limitations ?? [] }),
    ],
  ]);
  return assemble(data, [`# ${title}`, summary, input.description?.trim() ?? ''], body, heatmaps.map((h) => h.file));
}

/** The ranks vLLM's --max-lora-rank accepts (its engine arguments validate against this list). */
const VLLM_LORA_RANKS = [8, 16, 32, 64, 128, 256, 320, 512];
const vllmMaxLoraRank = (rank: number) => VLLM_LORA_RANKS.find((r) => r >= rank) ?? rank;

const py = (s: string) => JSON.stringify(s);

/**
 * A LoRA adapter's card: PEFT metadata (`library_name: peft`, `base_model`, `base_model_relation:
 * adapter`), its shape, its lineage, and how to load it with PEFT and serve it with vLLM.
 */
export function renderAdapterCard(input: AdapterCardInput): RenderedCard {
  const evaluations = input.evaluations ?? [];
  const heatmaps = heatmapFiles(input.heatmaps ?? []);
  const baseRepo = hubName(input.base);
  const data = frontMatterData({
    ...input,
    libraryName: 'peft',
    baseModels: [baseRepo],
    relation: 'adapter',
    extraTags: ['lora', 'peft'],
    datasets: input.trainingData,
    evaluations,
    defaultLibrary: 'peft',
  });
  const title = oneLine(input.displayName ?? input.name);
  const repo = input.hfName ?? input.name;
  const targets = input.targetModules.map(code).join(', ');
  const summary = [
    `**LoRA adapter for** ${repoRef(input.base.name, input.base.hfName ?? input.base.hubAncestor)}`,
    `**Rank:** ${fmtNumber(input.rank)}`,
    `**Alpha:** ${fmtNumber(input.alpha)}`,
    `**Targets:** ${targets}`,
    ...(input.extractedFrom ? [`**Extracted from:** ${repoRef(input.extractedFrom.name, input.extractedFrom.hfName)}`] : []),
  ].join(' · ');
  const o = input.baseOverrides;

  const details = factsTable([
    ['Registry name', code(input.name)],
    ['Hub repository', input.hfName ? repoRef(input.hfName, input.hfName) : undefined],
    ['PEFT type', 'LoRA'],
    ['Base model', repoRef(input.base.name, input.base.hfName ?? input.base.hubAncestor)],
    ['Rank (`r`)', input.rank],
    ['Alpha (`lora_alpha`)', input.alpha],
    // PEFT scales the update by alpha / r (without rsLoRA), which is what makes two adapters' alphas comparable.
    ['Scaling (alpha / rank)', fmtNumber(Number((input.alpha / input.rank).toPrecision(6)))],
    ['Target modules', targets],
    ['Dropout', input.dropout],
    ['Modules saved in full', input.modulesToSave?.length ? input.modulesToSave.map(code).join(', ') : undefined],
    ['Adapter parameters', input.parameterCount === undefined ? undefined : fmtParams(input.parameterCount)],
    ['Size', input.sizeBytes === undefined ? undefined : fmtBytes(input.sizeBytes)],
    ['Base RoPE θ required', o?.ropeTheta === undefined ? undefined : fmtNumber(o.ropeTheta)],
    ['Base max position embeddings required', o?.maxPositionEmbeddings === undefined ? undefined : fmtTokens(o.maxPositionEmbeddings)],
    ['Created', input.createdAt === undefined ? undefined : fmtDate(input.createdAt)],
  ]);

  const lineage: string[] = [];
  if (input.extractedFrom) {
    const e = input.extractedFrom;
    lineage.push(
      `Extracted from ${repoRef(e.name, e.hfName)} as the low-rank difference between its weights and ${repoRef(input.base.name, input.base.hfName ?? input.base.hubAncestor)}'s${e.note ? `: ${oneLine(e.note)}` : ''}. ` +
        `Applied to the base, it approximates that model at rank ${fmtNumber(input.rank)}.`,
    );
  }
  if (input.mergedInto?.length) lineage.push(`**Merged into**\n\n${input.mergedInto.map((m) => `- ${repoRef(m.name, m.hfName)}`).join('\n')}`);

  const training: string[] = [];
  if (input.recipe) training.push(recipeSection(input.recipe, baseRepo));
  if (input.trainingData?.length) training.push(dataSection(input.trainingData));

  const usage: string[] = [];
  const pyLines = ['from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer', 'from peft import PeftModel', ''];
  if (o?.ropeTheta !== undefined || o?.maxPositionEmbeddings !== undefined) {
    pyLines.push(`config = AutoConfig.from_pretrained(${py(baseRepo)})`);
    if (o.ropeTheta !== undefined) pyLines.push(`config.rope_theta = ${o.ropeTheta}`);
    if (o.maxPositionEmbeddings !== undefined) pyLines.push(`config.max_position_embeddings = ${o.maxPositionEmbeddings}`);
    pyLines.push(`base = AutoModelForCausalLM.from_pretrained(${py(baseRepo)}, config=config, torch_dtype="auto", device_map="auto")`);
  } else {
    pyLines.push(`base = AutoModelForCausalLM.from_pretrained(${py(baseRepo)}, torch_dtype="auto", device_map="auto")`);
  }
  pyLines.push(`tokenizer = AutoTokenizer.from_pretrained(${py(baseRepo)})`, `model = PeftModel.from_pretrained(base, ${py(repo)})`, '# Optional: fold the adapter into the weights for faster inference.', 'model = model.merge_and_unload()');
  usage.push('### Transformers and PEFT', fenced('python', pyLines.join('\n')));
  if (o?.ropeTheta !== undefined) {
    usage.push(`The base must run with \`rope_theta\` ${fmtNumber(o.ropeTheta)}: the adapter's weights were learned at that RoPE base, and on the base's own θ its long-context behaviour is not reproduced.`);
  }

  const loraName = input.name.replace(/[^A-Za-z0-9._-]+/g, '-');
  const argv = ['vllm', 'serve', baseRepo, '--enable-lora', '--lora-modules', `${loraName}=${repo}`, '--max-lora-rank', String(vllmMaxLoraRank(input.rank))];
  if (o?.maxPositionEmbeddings !== undefined) argv.push('--max-model-len', String(o.maxPositionEmbeddings));
  if (o?.ropeTheta !== undefined || o?.maxPositionEmbeddings !== undefined) {
    const overrides: Record<string, number> = {};
    if (o.ropeTheta !== undefined) overrides.rope_theta = o.ropeTheta;
    if (o.maxPositionEmbeddings !== undefined) overrides.max_position_embeddings = o.maxPositionEmbeddings;
    argv.push('--hf-overrides', JSON.stringify(overrides));
  }
  usage.push('### vLLM', fenced('bash', shellCommand(argv)));
  const vllmNotes = [
    `Requests select the adapter by its module name: \`"model": "${loraName}"\` in the OpenAI-compatible API; the base alone stays available under its own name.`,
    input.rank !== vllmMaxLoraRank(input.rank) ? `vLLM takes \`--max-lora-rank\` from a fixed list, so rank ${fmtNumber(input.rank)} is served under ${vllmMaxLoraRank(input.rank)}.` : null,
    input.modulesToSave?.length ? `vLLM's LoRA support does not load \`modules_to_save\` (${input.modulesToSave.map(code).join(', ')}); merge the adapter with PEFT and serve the merged model instead.` : null,
  ].filter((x): x is string => x !== null);
  usage.push(vllmNotes.map((n) => `- ${n}`).join('\n'));

  const body = sections([
    ['Adapter details', details],
    ['Lineage', lineage.join('\n\n') || null],
    ['Training', training.join('\n\n') || null],
    ['Evaluation', evaluationSection({ evaluations, heatmaps, scorecard: input.scorecard })],
    ['How to use', usage.join('\n\n')],
    ['Limitations', limitationsSection({ scorecard: input.scorecard, evaluations, heatmaps: input.heatmaps ?? [], contextLength: o?.maxPositionEmbeddings, extra: input.limitations ?? [] })],
  ]);
  return assemble(data, [`# ${title}`, summary, input.description?.trim() ?? ''], body, heatmaps.map((h) => h.file));
}
