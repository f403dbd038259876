import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GEMMA2_9B, kvBytesPerToken, LLAMA3_70B, LLAMA3_8B, loraSize, MISTRAL_7B_V02, paramCount, QWEN2_7B } from '@ctxlab/longctx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFiles, type HubFiles } from './files';
import { importHubModel, type HubImport, type HubModelImport } from './import';
import { HubImportError } from './issues';
import { dirFiles } from './node';
import { decoderTensors, loraTensors, safetensorsHeader, writeShardedCheckpoint, writeSparseSafetensors } from './testing';

const FIXTURES = join(import.meta.dirname, 'fixtures');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ctxlab-hub-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh repository folder with a fixture's files copied in. */
async function repo(fixture?: string): Promise<string> {
  const dir = join(root, `r${n++}`);
  if (fixture) await cp(join(FIXTURES, fixture), dir, { recursive: true });
  else await mkdir(dir);
  return dir;
}

async function editJson(path: string, edit: (o: Record<string, unknown>) => void): Promise<void> {
  const o = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(o);
  await writeFile(path, JSON.stringify(o));
}

/** dirFiles, counting the bytes read from weight files: the importer should read headers only. */
function counting(files: HubFiles): HubFiles & { weightBytesRead: () => number } {
  let read = 0;
  return {
    ...files,
    readRange: async (name, start, end) => {
      const b = await files.readRange(name, start, end);
      if (name.endsWith('.safetensors')) read += b?.byteLength ?? 0;
      return b;
    },
    weightBytesRead: () => read,
  };
}

const asModel = (r: HubImport): HubModelImport => {
  if (r.kind !== 'model') throw new Error(`expected a model, got ${r.kind}`);
  return r;
};

/** The error an import throws. */
async function refusal(dir: string | HubFiles): Promise<HubImportError> {
  try {
    await importHubModel(typeof dir === 'string' ? dirFiles(dir) : dir);
  } catch (e) {
    if (e instanceof HubImportError) return e;
    throw e;
  }
  throw new Error('the import went through');
}

const { tokenizer: _t, ...LLAMA3_8B_HUB } = LLAMA3_8B;

describe('Meta-Llama-3-8B-Instruct with its four sharded safetensors', () => {
  let dir: string;
  let files: ReturnType<typeof counting>;
  let m: HubModelImport;
  beforeAll(async () => {
    dir = await repo('meta-llama-3-8b-instruct');
    await writeShardedCheckpoint(dir, decoderTensors(LLAMA3_8B), 4);
    files = counting(dirFiles(dir));
    m = asModel(await importHubModel(files));
  });

  it('imports the planner config, exactly the preset but for the tokenizer', () => {
    expect(m.config).toEqual(LLAMA3_8B_HUB);
    expect(m.family).toMatchObject({ family: 'llama', architectureClass: 'LlamaForCausalLM', attentionBias: { qkv: false, o: false }, slidingWindow: null, slidingWindowLayers: 0 });
    expect(m.issues).toEqual([]);
  });

  it('counts 291 tensors and 8,030,261,248 parameters in the headers, all bf16, as the planner does', () => {
    expect(m.weights?.files).toEqual(['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors']);
    expect(m.weights?.tensors).toBe(291);
    expect(m.weights?.params).toBe(8_030_261_248);
    expect(m.weights?.byDtype).toEqual({ BF16: { tensors: 291, params: 8_030_261_248, bytes: 16_060_522_496 } });
    expect(m.configParams).toBe(8_030_261_248);
    expect(paramCount({ ...m.config }).total).toBe(8_030_261_248);
    expect(kvBytesPerToken(m.config, 'bf16')).toBe(131_072);
  });

  it('reads the headers and nothing of the 16 GB of tensor data', async () => {
    const sizes = await Promise.all(m.weights!.files.map(async (f) => (await stat(join(dir, f))).size));
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(16_060_522_496);
    // Each header is ~6 KB of JSON; the 8-byte length is read once more per file.
    expect(files.weightBytesRead()).toBeLessThan(64 * 1024);
  });

  it('reads the chat template, specials and generation defaults', () => {
    expect(m.tokenizer.chatTemplate).toMatch(/^\{% set loop_messages = messages %\}.*\{\{ '<\|start_header_id\|>assistant<\|end_header_id\|>\n\n' \}\}\{% endif %\}$/s);
    expect(m.tokenizer.chatTemplate).toContain("{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}");
    expect(m.tokenizer).toMatchObject({ bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>', padToken: null, modelMaxLength: null, tokenizerClass: 'PreTrainedTokenizerFast', hasTokenizerJson: false, chatTemplateFile: 'tokenizer_config.json' });
    expect(m.generation).toEqual({ bosTokenId: 128000, eosTokenIds: [128001, 128009], padTokenId: null, doSample: true, temperature: 0.6, topP: 0.9, topK: null, maxLength: 4096 });
  });

  it('a single model.safetensors works too', async () => {
    const one = await repo('meta-llama-3-8b-instruct');
    await writeSparseSafetensors(join(one, 'model.safetensors'), decoderTensors(LLAMA3_8B));
    const r = asModel(await importHubModel(dirFiles(one)));
    expect(r.weights).toMatchObject({ files: ['model.safetensors'], tensors: 291, params: 8_030_261_248 });
  });
});

describe('the other published configs', () => {
  it('Gradient 1048K: θ 2,807,348,736 and 1,048,576 positions over Llama-3-70B, 30 shards', async () => {
    const dir = await repo('gradient-llama-3-70b-instruct-1048k');
    await writeShardedCheckpoint(dir, decoderTensors(LLAMA3_70B), 30);
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.config.ropeTheta).toBe(2_807_348_736);
    expect(m.config.maxPositionEmbeddings).toBe(1_048_576);
    expect(m.config).toEqual({ ...LLAMA3_8B_HUB, numLayers: 80, hiddenSize: 8192, numAttentionHeads: 64, intermediateSize: 28672, ropeTheta: 2_807_348_736, maxPositionEmbeddings: 1_048_576 });
    expect(m.configParams).toBe(70_553_706_496);
    expect(m.weights?.params).toBe(70_553_706_496);
    expect(kvBytesPerToken(m.config)).toBe(327_680);
    expect(m.issues).toEqual([]);
  });

  it('Mistral-7B-Instruct-v0.2: Llama maths, 7,241,732,096 parameters, no sliding window', async () => {
    const dir = await repo('mistral-7b-instruct-v0.2');
    await writeShardedCheckpoint(dir, decoderTensors(MISTRAL_7B_V02), 3);
    const m = asModel(await importHubModel(dirFiles(dir)));
    const { tokenizer: _, ...want } = MISTRAL_7B_V02;
    expect(m.config).toEqual(want);
    expect(m.configParams).toBe(7_241_732_096);
    expect(m.weights?.params).toBe(7_241_732_096);
    expect(m.family.slidingWindow).toBeNull();
    expect(kvBytesPerToken(m.config)).toBe(131_072);
  });

  it('Qwen2-7B-Instruct: q/k/v biases, 7,615,616,512 parameters; the unused 131,072 window is not applied', async () => {
    const dir = await repo('qwen2-7b-instruct');
    await writeShardedCheckpoint(dir, decoderTensors(QWEN2_7B), 4);
    const m = asModel(await importHubModel(dirFiles(dir)));
    const { tokenizer: _, ...want } = QWEN2_7B;
    expect(m.config).toEqual(want);
    expect(m.family).toMatchObject({ family: 'qwen2', attentionBias: { qkv: true, o: false }, slidingWindow: null });
    expect(m.weights?.tensors).toBe(28 * 12 + 3);
    expect(m.weights?.params).toBe(7_615_616_512);
    expect(m.configParams).toBe(7_615_616_512);
    // 2 × 28 layers × 4 KV heads × 128 × 2 bytes.
    expect(kvBytesPerToken(m.config)).toBe(57_344);
  });

  it('Gemma-2-9B: head_dim 256 ≠ 3584/16, tied embeddings, 4 norms per layer, 9,241,705,984 parameters in fp32', async () => {
    const dir = await repo('gemma-2-9b');
    await writeShardedCheckpoint(dir, decoderTensors(GEMMA2_9B, 'F32'), 8);
    const m = asModel(await importHubModel(dirFiles(dir)));
    const { tokenizer: _, ...want } = GEMMA2_9B;
    expect(m.config).toEqual(want);
    expect(m.family).toMatchObject({
      family: 'gemma2',
      architectureClass: 'Gemma2ForCausalLM',
      slidingWindow: 4096,
      slidingWindowLayers: 21,
      queryPreAttnScalar: 256,
      attnLogitSoftcapping: 50,
      finalLogitSoftcapping: 30,
      hiddenAct: 'gelu_pytorch_tanh',
    });
    expect(m.weights?.tensors).toBe(42 * 11 + 2);
    expect(m.weights?.byDtype).toEqual({ F32: { tensors: 464, params: 9_241_705_984, bytes: 4 * 9_241_705_984 } });
    expect(m.configParams).toBe(9_241_705_984);
    expect(m.issues).toEqual([]);
    // Every layer at full length, as vLLM allocates it: 2 × 42 × 8 × 256 × 2 bytes.
    expect(kvBytesPerToken(m.config)).toBe(344_064);
  });

  it('config.json alone imports, with a warning that the weights were not checked', async () => {
    const m = asModel(await importHubModel(dirFiles(await repo('gradient-llama-3-70b-instruct-1048k'))));
    expect(m.weights).toBeNull();
    expect(m.issues).toEqual([expect.objectContaining({ file: 'model.safetensors', severity: 'warning' })]);
  });

  it('memoryFiles is a source too (files a browser uploaded)', async () => {
    const config = await readFile(join(FIXTURES, 'qwen2-7b-instruct', 'config.json'), 'utf8');
    const m = asModel(await importHubModel(memoryFiles({ 'config.json': config })));
    expect(m.config.architecture).toBe('qwen2');
  });
});

describe('rope_scaling in every type the planner knows', () => {
  const cases: [string, unknown, unknown][] = [
    ['linear', { type: 'linear', factor: 2.0 }, { type: 'linear', factor: 2 }],
    ['dynamic', { type: 'dynamic', factor: 4.0 }, { type: 'dynamic', factor: 4 }],
    [
      'yarn (Qwen2 README)',
      { type: 'yarn', factor: 4.0, original_max_position_embeddings: 32768 },
      { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 32, betaSlow: 1 },
    ],
    [
      'llama3 (Llama-3.1)',
      { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
    ],
    ['default', { rope_type: 'default' }, null],
  ];
  it.each(cases)('%s', async (_name, hf, want) => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => {
      c.rope_scaling = hf;
      c.max_position_embeddings = 131072;
    });
    expect(asModel(await importHubModel(dirFiles(dir))).config.ropeScaling).toEqual(want);
  });

  it('yarn without original_max_position_embeddings takes max_position_embeddings, and says so', async () => {
    const dir = await repo('qwen2-7b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.rope_scaling = { type: 'yarn', factor: 4.0, beta_fast: 16 }));
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.config.ropeScaling).toEqual({ type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 32768, betaFast: 16, betaSlow: 1 });
    expect(m.issues.map((i) => i.field)).toContain('rope_scaling.original_max_position_embeddings');
  });

  it('longrope is refused as not supported by the planner, not dropped', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.rope_scaling = { type: 'longrope', long_factor: [1], short_factor: [1], original_max_position_embeddings: 4096 }));
    const e = await refusal(dir);
    expect(e.issues).toEqual([
      expect.objectContaining({
        file: 'config.json',
        field: 'rope_scaling.rope_type',
        message: 'config.json: rope_scaling type "longrope" (per-dimension long/short factors) is not supported by the planner; supported: linear, dynamic, yarn, llama3',
      }),
    ]);
  });

  it('a llama3 scaling without high_freq_factor names the sub-field', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.rope_scaling = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, original_max_position_embeddings: 8192 }));
    const e = await refusal(dir);
    expect(e.message).toBe('config.json: rope_scaling.high_freq_factor is missing; it is required (the high-frequency factor)');
    expect(e.issues[0]).toMatchObject({ file: 'config.json', field: 'rope_scaling.high_freq_factor' });
  });
});

describe('newer and variant config fields', () => {
  it('reads `dtype` where newer transformers write it instead of torch_dtype', async () => {
    const dir = await repo('mistral-7b-instruct-v0.2');
    await editJson(join(dir, 'config.json'), (c) => {
      delete c.torch_dtype;
      c.dtype = 'float16';
    });
    expect(asModel(await importHubModel(dirFiles(dir))).config.dtype).toBe('fp16');
  });

  it('a missing torch_dtype is taken from the weights, with a warning', async () => {
    const dir = await repo('gemma-2-9b');
    await editJson(join(dir, 'config.json'), (c) => delete c.torch_dtype);
    await writeSparseSafetensors(join(dir, 'model.safetensors'), decoderTensors(GEMMA2_9B, 'BF16'));
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.config.dtype).toBe('bf16');
    expect(m.issues).toEqual([expect.objectContaining({ field: 'torch_dtype', severity: 'warning' })]);
  });

  it('Mistral v0.1 keeps its 4,096 window; defaults fill num_key_value_heads and head_dim', async () => {
    const dir = await repo('mistral-7b-instruct-v0.2');
    await editJson(join(dir, 'config.json'), (c) => {
      c.sliding_window = 4096;
      delete c.num_key_value_heads;
    });
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.config).toMatchObject({ slidingWindow: 4096, numKeyValueHeads: 32, headDim: 128 });
    expect(m.family.slidingWindowLayers).toBe(32);
  });

  it('Llama with attention_bias true counts q/k/v/o biases', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.attention_bias = true));
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.config.attentionBias).toBe(true);
    expect(m.configParams).toBe(8_030_261_248 + 32 * (4096 + 1024 + 1024 + 4096));
  });

  it('tokenizer specials as AddedToken objects, a list of chat templates, chat_template.jinja', async () => {
    const dir = await repo();
    await cp(join(FIXTURES, 'mistral-7b-instruct-v0.2', 'config.json'), join(dir, 'config.json'));
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({
        bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
        eos_token: '</s>',
        pad_token: null,
        model_max_length: 32768,
        chat_template: [
          { name: 'default', template: '{{ messages }}' },
          { name: 'tool_use', template: '{{ tools }}' },
        ],
      }),
    );
    await writeFile(join(dir, 'tokenizer.json'), '{}');
    const m = asModel(await importHubModel(dirFiles(dir)));
    expect(m.tokenizer).toMatchObject({ bosToken: '<s>', eosToken: '</s>', modelMaxLength: 32768, chatTemplate: '{{ messages }}', chatTemplates: { default: '{{ messages }}', tool_use: '{{ tools }}' }, hasTokenizerJson: true });

    const jinja = await repo();
    await cp(join(FIXTURES, 'mistral-7b-instruct-v0.2', 'config.json'), join(jinja, 'config.json'));
    await writeFile(join(jinja, 'chat_template.jinja'), '{{ bos_token }}');
    expect(asModel(await importHubModel(dirFiles(jinja))).tokenizer).toMatchObject({ chatTemplate: '{{ bos_token }}', chatTemplateFile: 'chat_template.jinja' });
  });
});

describe('a PEFT LoRA adapter', () => {
  it('imports as an adapter with its base, rank, alpha, targets and parameter count', async () => {
    const dir = await repo('llama-3-8b-instruct-lora');
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    await writeSparseSafetensors(join(dir, 'adapter_model.safetensors'), loraTensors(LLAMA3_8B, 16, targets));
    const r = await importHubModel(dirFiles(dir));
    if (r.kind !== 'adapter') throw new Error('expected an adapter');
    expect(r.adapter).toEqual({
      peftType: 'LORA',
      baseModel: 'meta-llama/Meta-Llama-3-8B-Instruct',
      rank: 16,
      alpha: 32,
      dropout: 0.05,
      targetModules: targets,
      targetModulesPattern: null,
      modulesToSave: [],
      taskType: 'CAUSAL_LM',
      useRslora: false,
      useDora: false,
    });
    // r·(in + out) per module per layer: 41,943,040, as libs/longctx sizes it.
    expect(r.weights?.params).toBe(41_943_040);
    expect(r.weights?.params).toBe(loraSize(LLAMA3_8B, { rank: 16, targetModules: targets }).params);
    expect(r.weights?.tensors).toBe(32 * 7 * 2);
    expect(r.issues).toEqual([]);
  });

  it('an adapter whose weights have another rank than r is refused, naming the tensor', async () => {
    const dir = await repo('llama-3-8b-instruct-lora');
    await writeSparseSafetensors(join(dir, 'adapter_model.safetensors'), loraTensors(LLAMA3_8B, 8, ['q_proj']));
    const e = await refusal(dir);
    expect(e.issues[0]).toMatchObject({ file: 'adapter_model.safetensors', field: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' });
    expect(e.message).toMatch(/has rank 8 \(shape \[8,4096\]\) but adapter_config.json says r 16/);
  });

  it('a non-LoRA PEFT type is refused by name', async () => {
    const dir = await repo('llama-3-8b-instruct-lora');
    await editJson(join(dir, 'adapter_config.json'), (c) => (c.peft_type = 'IA3'));
    expect((await refusal(dir)).message).toBe('adapter_config.json: peft_type "IA3" is not supported; ctxlab imports LORA adapters only');
  });
});

describe('refusals name the file and the field', () => {
  it('a missing required field', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => delete c.num_hidden_layers);
    const e = await refusal(dir);
    expect(e.message).toBe('config.json: num_hidden_layers is missing; it is required (the number of decoder layers)');
    expect(e.issues).toEqual([{ file: 'config.json', field: 'num_hidden_layers', severity: 'error', message: e.message }]);
    expect(e.field).toBe('num_hidden_layers');
  });

  it('a wrong JSON type', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.hidden_size = '4096'));
    expect((await refusal(dir)).message).toBe('config.json: hidden_size must be a positive integer, got "4096" (a string)');
  });

  it('every error at once', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => {
      c.vocab_size = -1;
      c.tie_word_embeddings = 'no';
    });
    expect((await refusal(dir)).issues.map((i) => i.field)).toEqual(['vocab_size', 'tie_word_embeddings']);
  });

  it('an unsupported model_type, by name, with the supported families', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => {
      c.model_type = 'mamba';
      c.architectures = ['MambaForCausalLM'];
    });
    const e = await refusal(dir);
    expect(e.message).toBe('config.json: model_type "mamba" is not supported; supported families: llama, mistral, qwen2, gemma2');
    expect(e.issues[0]?.field).toBe('model_type');
  });

  it('a class that is not a causal LM', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.architectures = ['LlamaForSequenceClassification']));
    expect((await refusal(dir)).message).toBe('config.json: architectures[0] "LlamaForSequenceClassification" is not a causal language model; ctxlab plans LlamaForCausalLM');
  });

  it('inconsistent heads: KV heads that do not divide the query heads; hidden ≠ heads × head_dim for llama', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await editJson(join(dir, 'config.json'), (c) => (c.num_key_value_heads = 6));
    expect((await refusal(dir)).message).toBe('config.json: num_attention_heads 32 is not divisible by num_key_value_heads 6');

    const llama = await repo('meta-llama-3-8b-instruct');
    await editJson(join(llama, 'config.json'), (c) => (c.head_dim = 96));
    expect((await refusal(llama)).message).toBe('config.json: hidden_size 4096 must equal num_attention_heads × head_dim = 32 × 96 = 3072 for a llama model');

    const heads = await repo('qwen2-7b-instruct');
    await editJson(join(heads, 'config.json'), (c) => (c.num_attention_heads = 27));
    expect((await refusal(heads)).message).toBe('config.json: hidden_size 3584 is not divisible by num_attention_heads 27, and there is no head_dim to say the head width');
  });

  it('safetensors parameters that disagree with the config, with a hint when lm_head explains it', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await writeShardedCheckpoint(dir, decoderTensors(LLAMA3_8B), 4);
    await editJson(join(dir, 'config.json'), (c) => (c.tie_word_embeddings = true));
    const e = await refusal(dir);
    expect(e.issues).toEqual([expect.objectContaining({ file: 'model.safetensors.index.json', field: 'parameters' })]);
    expect(e.message).toBe(
      "model.safetensors.index.json: the safetensors hold 8,030,261,248 parameters but config.json's llama architecture has 7,504,924,672 (+525,336,576): lm_head is stored although tie_word_embeddings is true",
    );
  });

  it('an index naming a shard that is not there', async () => {
    const dir = await repo('meta-llama-3-8b-instruct');
    await writeShardedCheckpoint(dir, decoderTensors(LLAMA3_8B), 4);
    await rm(join(dir, 'model-00003-of-00004.safetensors'));
    const e = await refusal(dir);
    expect(e.issues[0]).toMatchObject({ file: 'model.safetensors.index.json', field: 'weight_map' });
    expect(e.message).toMatch(/^model.safetensors.index.json: weight_map names shard model-00003-of-00004.safetensors \(for model.layers.\d+\.\S+ and \d+ more tensors\), which is not in the repository$/);
  });

  describe('a malformed safetensors header names the file', () => {
    const cfg = () => repo('mistral-7b-instruct-v0.2');
    const tensors = decoderTensors(MISTRAL_7B_V02);

    it('a header length beyond the format limit (not a safetensors file)', async () => {
      const dir = await cfg();
      await writeFile(join(dir, 'model.safetensors'), new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:…'));
      const e = await refusal(dir);
      expect(e.issues[0]).toMatchObject({ file: 'model.safetensors', field: 'header' });
      expect(e.message).toMatch(/^model.safetensors: header length \d+ \(the first 8 bytes, little-endian\) is above the format's limit of 100,000,000 bytes: not a safetensors file, or a corrupt one$/);
    });

    it('a file cut off inside its header', async () => {
      const dir = await cfg();
      const { header } = safetensorsHeader(tensors);
      await writeFile(join(dir, 'model.safetensors'), header.subarray(0, 1000));
      expect((await refusal(dir)).message).toBe(`model.safetensors: is truncated: the header should be ${(header.byteLength - 8).toLocaleString('en-US')} bytes but the file ends after 992 (an interrupted download?)`);
    });

    it('a file cut off inside its tensor data', async () => {
      const dir = await cfg();
      const { header } = safetensorsHeader(tensors);
      await writeFile(join(dir, 'model.safetensors'), header);
      const end = (header.byteLength + 2 * 7_241_732_096).toLocaleString('en-US');
      expect((await refusal(dir)).message).toBe(`model.safetensors: is ${header.byteLength.toLocaleString('en-US')} bytes but its header places tensor data up to byte ${end}: the file is truncated (an interrupted download?)`);
    });

    it('a header that is not JSON', async () => {
      const dir = await cfg();
      const body = new TextEncoder().encode('{"model.embed_tokens.weight": {"dtype": "BF16",');
      const bytes = new Uint8Array(8 + body.byteLength);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(body.byteLength), true);
      bytes.set(body, 8);
      await writeFile(join(dir, 'model.safetensors'), bytes);
      const e = await refusal(dir);
      expect(e.issues[0]).toMatchObject({ file: 'model.safetensors', field: 'header' });
      expect(e.message).toMatch(/^model.safetensors: header is not valid UTF-8 JSON: /);
    });

    it('data_offsets that do not fit the shape, naming the tensor', async () => {
      const dir = await cfg();
      const { header } = safetensorsHeader([{ name: 'model.norm.weight', dtype: 'BF16', shape: [4096] }]);
      const text = new TextDecoder().decode(header.subarray(8)).replace('[0,8192]', '[0,4096]');
      const body = new TextEncoder().encode(text);
      const bytes = new Uint8Array(8 + body.byteLength + 8192);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(body.byteLength), true);
      bytes.set(body, 8);
      await writeFile(join(dir, 'model.safetensors'), bytes);
      const e = await refusal(dir);
      expect(e.issues[0]).toMatchObject({ file: 'model.safetensors', field: 'model.norm.weight' });
      expect(e.message).toBe('model.safetensors: tensor "model.norm.weight" (BF16 [4096]) needs 8,192 bytes but its data_offsets [0, 4096] span 4,096');
    });
  });

  it('a folder with neither config.json nor adapter_config.json', async () => {
    const dir = await repo();
    await writeFile(join(dir, 'README.md'), '# hi');
    expect((await refusal(dir)).message).toBe('config.json: is missing, and so is adapter_config.json: this is neither a Hugging Face model nor a PEFT adapter (files: README.md)');
  });

  it('a directory that does not exist', async () => {
    expect((await refusal(join(root, 'nowhere'))).message).toBe(`${join(root, 'nowhere')}: no such directory`);
  });

  it('config.json that is not JSON', async () => {
    const dir = await repo();
    await writeFile(join(dir, 'config.json'), '{"model_type": "llama",}');
    const e = await refusal(dir);
    expect(e.issues[0]).toMatchObject({ file: 'config.json', field: '(file)' });
    expect(e.message).toMatch(/^config.json: is not valid JSON: /);
  });
});
