/**
 * `ctxlab models import DIR` and `ctxlab models card NAME` / `ctxlab adapters card NAME`: Hugging Face
 * directories in, model cards out. The import reads the directory here (JSON files whole, of each
 * .safetensors file only its header) and sends that; weights never leave the machine.
 */
import type { createClient } from '@ctxlab/api/client';
import { readHubDirectory } from '@ctxlab/hub/node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelByName } from './lookup';

type Api = ReturnType<typeof createClient>;

export const hubUsage = `models import DIR|file:///DIR [--name NAME] [--license ID] [--base MODEL] [--tokenizer NAME] [--dry-run]   a Hugging Face model or PEFT adapter folder (configs, tokenizer, safetensors headers)
  models card NAME [--out DIR]     the model's Hugging Face card (README.md + NIAH heatmap SVGs)
  adapters card NAME [--out DIR]   an adapter's card`;

type Values = Record<string, string | boolean | string[] | undefined>;

export async function modelsImport(api: Api, dir: string, values: Values) {
  const { root, name, sourceUri, files, safetensors } = await readHubDirectory(dir);
  const base = typeof values.base === 'string' ? await modelByName(api, values.base) : null;
  const r = await api.models.import.mutate({
    files,
    safetensors,
    name: typeof values.name === 'string' ? values.name : name,
    ...(typeof values.license === 'string' ? { license: values.license } : {}),
    ...(typeof values.tokenizer === 'string' ? { tokenizer: values.tokenizer } : {}),
    ...(base ? { baseModelId: base.id } : {}),
    ...(typeof values.source === 'string' ? { sourceUri: values.source } : sourceUri ? { sourceUri } : {}),
    dryRun: values['dry-run'] === true,
  });
  const read = `read ${files.length} files and ${safetensors.length} safetensors headers from ${root}`;
  const weights = r.hub.weights ? ` · ${(r.hub.weights.params / 1e9).toFixed(2)} B parameters in ${r.hub.weights.files.length} weight file(s)` : '';
  const warnings = r.hub.warnings.map((w) => `  warning: ${w.message}`);
  const verb = r.created ? 'imported' : 'would import (dry run)';
  if (r.kind === 'adapter') {
    return {
      data: r,
      text: [read, `${verb} adapter ${r.adapter.name}: LoRA rank ${r.adapter.rank}, alpha ${r.adapter.alpha} on ${r.adapter.targetModules.join(', ')}, base ${r.base.name}${weights}`, ...warnings].join('\n'),
    };
  }
  const c = r.model.config;
  return {
    data: r,
    text: [
      read,
      `${verb} model ${r.model.name}${r.created ? ` (${r.created.id})` : ''}: ${c.architecture}, ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numAttentionHeads}/${c.numKeyValueHeads} heads, θ ${c.ropeTheta.toLocaleString('en-US')}, ${c.maxPositionEmbeddings.toLocaleString('en-US')} positions${weights}`,
      `tokenizer ${c.tokenizer}${r.model.license ? ` · license ${r.model.license}` : ''}`,
      ...warnings,
    ].join('\n'),
  };
}

function writeCard(outDir: string, card: { readme: string; files: { name: string; content: string }[] }) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'README.md'), card.readme);
  for (const f of card.files) writeFileSync(join(outDir, f.name), f.content);
  return [join(outDir, 'README.md'), ...card.files.map((f) => join(outDir, f.name))];
}

export async function modelsCard(api: Api, name: string, values: Values) {
  const m = await modelByName(api, name);
  const card = await api.models.card.query({ id: m.id });
  if (typeof values.out !== 'string') return { data: card, text: card.readme };
  const written = writeCard(values.out, card);
  return { data: { ...card, written }, text: `wrote ${written.join(', ')}` };
}

export async function adaptersCard(api: Api, name: string, values: Values) {
  const a = (await api.adapters.list.query({ search: name, limit: 50 })).items.find((x) => x.name === name);
  if (!a) throw new Error(`no adapter named ${name} (ctxlab adapters list)`);
  const card = await api.adapters.card.query({ id: a.id });
  if (typeof values.out !== 'string') return { data: card, text: card.readme };
  const written = writeCard(values.out, card);
  return { data: { ...card, written }, text: `wrote ${written.join(', ')}` };
}
