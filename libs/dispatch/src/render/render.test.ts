import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recipeSpecSchema } from '@ctxlab/contracts';
import { BAAI_LLAMA3_8B_80K_QLORA, findGpu, planServing } from '@ctxlab/longctx';
import { describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpecInput } from '../specs';
import {
  BAAI_PUBLISHED_TRAIN_SPEC,
  BAAI_TRAIN_DATA,
  BAAI_TRAIN_SPEC,
  GRADIENT_1048K_EXTRACT,
  GRADIENT_1048K_MERGE,
  GRADIENT_1048K_ON_4_H100,
  GRADIENT_TRAIN_SPECS,
  ZHINAO_360K_SERVE,
} from '../testing/seeds';
import { loadYaml, pyyaml } from '../testing/pyyaml';
import { thrown } from '../testing/thrown';
import { renderJob } from './index';
import { servingInput } from './vllm';

const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import json, argparse'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();


const MULTI_NODE = ['--machine_rank', '$(CTXLAB_NODE_RANK)', '--main_process_ip', '$(CTXLAB_MASTER_ADDR)', '--main_process_port', '29500'];
const M = '/artifacts/models/gradient-llama-3-70b';

describe('EasyContext: Gradient Llama-3-70B → 1048K, four stages (field notes §1)', () => {
  // Literal expectations, typed from the published table, not derived from the spec.
  const expected = [
    { model: 'meta-llama/Meta-Llama-3-70B-Instruct', name: '65K', seq: '65536', theta: '15296098', batch: '64', accum: '1', steps: '20', gpus: 512, nodes: 64 },
    { model: `${M}/65K`, name: '262K', seq: '262144', theta: '207112184', batch: '16', accum: '1', steps: '25', gpus: 512, nodes: 64 },
    { model: `${M}/262K`, name: '524K', seq: '524288', theta: '1062356830', batch: '8', accum: '2', steps: '25', gpus: 512, nodes: 64 },
    { model: `${M}/524K`, name: '1048K', seq: '1048576', theta: '3580165449', batch: '1', accum: '4', steps: '8', gpus: 128, nodes: 16 },
  ];
  expected.forEach((e, i) => {
    it(`stage ${i + 1} (${e.name}): exact argv`, () => {
      const job = renderJob(GRADIENT_TRAIN_SPECS[i]!);
      expect(job.argv).toEqual([
        'accelerate', 'launch', '--config_file', 'accelerate.yaml', ...MULTI_NODE,
        '/opt/EasyContext/train.py',
        '--model', e.model,
        '--dataset', `/artifacts/datasets/slimpajama-llama3-${e.name}`,
        '--seq-length', e.seq,
        '--rope-theta', e.theta,
        '--batch-size', e.batch,
        '--gradient-accumulate-every', e.accum,
        '--max-train-steps', e.steps,
        '--learning-rate', '2e-5',
        '--output-dir', `${M}/${e.name}`,
        '--seed', '42',
        '--parallel_mode', 'zigzag_ring_attn',
      ]);
      expect(job.steps).toEqual([job.argv]);
      expect(job.env).toEqual({});
      expect(job.resources).toEqual({ gpus: e.gpus, gpuType: 'L40S', nodes: e.nodes, gpusPerNode: 8 });
      expect(job.outputs).toEqual([`file://${M}/${e.name}`]);
      expect(job.files.map((f) => f.path)).toEqual(['accelerate.yaml', 'deepspeed_zero3.json']);
    });
  });

  it('stage 4 files: accelerate config for 16 machines × 8 GPUs, ZeRO-3 offload with the stage learning rate', () => {
    const job = renderJob(GRADIENT_TRAIN_SPECS[3]!);
    expect(job.files[0]!.content).toBe(
      [
        'compute_environment: LOCAL_MACHINE',
        'debug: false',
        'deepspeed_config:',
        '  deepspeed_config_file: deepspeed_zero3.json',
        '  deepspeed_multinode_launcher: standard',
        '  zero3_init_flag: false',
        'distributed_type: DEEPSPEED',
        'downcast_bf16: "no"',
        'main_process_port: 29500',
        'main_training_function: main',
        'num_machines: 16',
        'num_processes: 128',
        'rdzv_backend: static',
        'same_network: true',
        'tpu_env: []',
        'tpu_use_cluster: false',
        'tpu_use_sudo: false',
        'use_cpu: false',
        '',
      ].join('\n'),
    );
    const ds = JSON.parse(job.files[1]!.content);
    expect(ds.zero_optimization.stage).toBe(3);
    expect(ds.zero_optimization.offload_param).toEqual({ device: 'cpu', pin_memory: true });
    expect(ds.zero_optimization.offload_optimizer).toEqual({ device: 'cpu', pin_memory: true });
    expect(ds.scheduler).toEqual({ type: 'WarmupLR', params: { warmup_min_lr: 2e-5, warmup_max_lr: 2e-5, warmup_num_steps: 0, warmup_type: 'linear' } });
    expect(ds.optimizer.params.lr).toBe('auto');
    expect(ds.train_micro_batch_size_per_gpu).toBe(1);
  });

  it.skipIf(!pyyaml)('PyYAML reads the rendered configs as intended ("no" stays a string)', () => {
    expect(loadYaml(renderJob(GRADIENT_TRAIN_SPECS[3]!).files[0]!.content)).toEqual({
      compute_environment: 'LOCAL_MACHINE',
      debug: false,
      deepspeed_config: { deepspeed_config_file: 'deepspeed_zero3.json', deepspeed_multinode_launcher: 'standard', zero3_init_flag: false },
      distributed_type: 'DEEPSPEED',
      downcast_bf16: 'no',
      main_process_port: 29500,
      main_training_function: 'main',
      num_machines: 16,
      num_processes: 128,
      rdzv_backend: 'static',
      same_network: true,
      tpu_env: [],
      tpu_use_cluster: false,
      tpu_use_sudo: false,
      use_cpu: false,
    });
    expect(loadYaml(renderJob(GRADIENT_1048K_MERGE).files[0]!.content)).toEqual({
      models: [{ model: '/artifacts/models/llama-3-70b-finetune+/artifacts/adapters/llama-3-70b-1048k-r32' }],
      merge_method: 'passthrough',
      dtype: 'bfloat16',
    });
  });

  it('one machine: machine_rank in the config, no rendezvous flags', () => {
    const spec = { ...GRADIENT_TRAIN_SPECS[3]!, stage: { ...GRADIENT_TRAIN_SPECS[3]!.stage, gpus: 8, learningRate: 1e-5 }, offload: false };
    const job = renderJob(spec);
    expect(job.argv.slice(0, 5)).toEqual(['accelerate', 'launch', '--config_file', 'accelerate.yaml', '/opt/EasyContext/train.py']);
    expect(job.argv).not.toContain('--machine_rank');
    expect(job.resources).toEqual({ gpus: 8, gpuType: 'L40S', nodes: 1, gpusPerNode: 8 });
    const yaml = job.files[0]!.content;
    expect(yaml).toContain('\nmachine_rank: 0\n');
    expect(yaml).toContain('\nnum_machines: 1\nnum_processes: 8\n');
    expect(yaml).not.toContain('deepspeed_multinode_launcher');
    const ds = JSON.parse(job.files[1]!.content);
    expect(ds.scheduler.params.warmup_max_lr).toBe(1e-5);
    expect(ds.zero_optimization.offload_param).toBeUndefined();
    expect(job.argv[job.argv.indexOf('--learning-rate') + 1]).toBe('1e-5');
  });

  it('install location and URI resolver are options', () => {
    const job = renderJob(GRADIENT_TRAIN_SPECS[0]!, {
      easyContextDir: '/src/EasyContext/',
      resolveUri: (uri) => uri.replace(/^(file:\/\/|hf:\/\/)/, '/mnt/'),
    });
    expect(job.argv).toContain('/src/EasyContext/train.py');
    expect(job.argv[job.argv.indexOf('--model') + 1]).toBe('/mnt/meta-llama/Meta-Llama-3-70B-Instruct');
  });

  it('refuses what EasyContext cannot express', () => {
    const base = GRADIENT_TRAIN_SPECS[0]!;
    expect(thrown(() => renderJob({ ...base, datasets: ['file:///a', 'file:///b'] })).field).toBe('datasets');
    expect(thrown(() => renderJob({ ...base, stage: { ...base.stage, gpus: 12 } })).message).toMatch(/12 GPUs do not fill whole machines of 8/);
    const e = thrown(() => renderJob({ ...base, lora: BAAI_LLAMA3_8B_80K_QLORA.lora }));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.message).toMatch(/use trainer "qlora"/);
  });
});

describe('QLoRA: BAAI Llama-3-8B-Instruct → 80K (longllm_qlora)', () => {
  it('the seed recipe is a valid recipe spec', () => {
    expect(recipeSpecSchema.safeParse(BAAI_LLAMA3_8B_80K_QLORA).success).toBe(true);
  });

  it('exact argv and env: rank 32, alpha 16, q/k/v/o + embed_tokens, NF4, lr 5e-5 linear, one GPU', () => {
    const job = renderJob(BAAI_TRAIN_SPEC);
    // The seed's file:///data/long-llm/… training files, as local paths.
    const data = BAAI_TRAIN_DATA.map((uri) => uri.replace(/^file:\/\//, ''));
    expect(job.argv).toEqual([
      'torchrun', '--nproc_per_node', '1',
      '-m', 'main.train',
      '--model_name_or_path', 'meta-llama/Meta-Llama-3-8B-Instruct',
      '--train_data', ...data,
      '--output_dir', '/artifacts/models/llama-3-8b-instruct-80k-qlora',
      '--max_length', '81920',
      '--group_by_length',
      '--rope_theta', '200000000',
      '--lora_tune',
      '--lora_rank', '32',
      '--lora_alpha', '16',
      '--lora_targets', 'q_proj', 'k_proj', 'v_proj', 'o_proj',
      '--lora_extra_params', 'embed_tokens',
      '--load_in_4_bit',
      '--per_device_train_batch_size', '1',
      '--gradient_accumulation_steps', '8',
      '--max_steps', '2500',
      '--learning_rate', '5e-5',
      '--lr_scheduler_type', 'linear',
      '--gradient_checkpointing', '--use_reentrant', 'True',
      '--bf16',
      '--attn_impl', 'flash_attention_2',
      '--chat_template', 'llama-3',
      '--seed', '42',
      '--save_only_model',
      '--save_strategy', 'steps',
      '--save_steps', '2500',
      '--logging_steps', '1',
    ]);
    expect(job.env).toEqual({ PYTHONPATH: '/opt/longllm_qlora', PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True' });
    expect(job.resources).toEqual({ gpus: 1, gpuType: 'A800-80G', nodes: 1, gpusPerNode: 1 });
    expect(job.files).toEqual([]);
  });

  it('refuses more than one GPU, naming FlagEmbedding issue #919: Unsloth no longer trains under DDP', () => {
    const twoMachines = { ...BAAI_PUBLISHED_TRAIN_SPEC, stage: { ...BAAI_PUBLISHED_TRAIN_SPEC.stage, gpus: 16, batchSize: 16 } };
    for (const [spec, gpus] of [[BAAI_PUBLISHED_TRAIN_SPEC, 8], [twoMachines, 16]] as const) {
      const e = thrown(() => renderJob(spec));
      expect(e.code).toBe('UNSUPPORTED');
      expect(e.field).toBe('stage.gpus');
      expect(e.message).toBe(
        `longllm_qlora trains on one GPU; got ${gpus}. Its main.train loads the model with Unsloth, which no longer runs under torchrun's data parallelism, ` +
          "and the trainer's README says its multi-GPU launch won't work (FlagEmbedding issue #919, https://github.com/FlagOpen/FlagEmbedding/issues/919, open; " +
          "the maintainers' workaround is one process). Set stage.gpus to 1 and keep the global batch with gradientAccumulation.",
      );
    }
  });

  it('"all-linear" expands to the seven projections', () => {
    const spec = { ...BAAI_TRAIN_SPEC, lora: { ...BAAI_LLAMA3_8B_80K_QLORA.lora!, targetModules: ['all-linear'] } };
    const argv = renderJob(spec).argv;
    const i = argv.indexOf('--lora_targets');
    expect(argv.slice(i + 1, i + 8)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
  });

  it('refuses what the trainer cannot express, naming the field', () => {
    const lora = BAAI_LLAMA3_8B_80K_QLORA.lora!;
    const cases: [JobSpecInput, string, RegExp][] = [
      [{ ...BAAI_TRAIN_SPEC, lora: { ...lora, quantization: 'int8' } }, 'lora.quantization', /no 8-bit/],
      [{ ...BAAI_TRAIN_SPEC, lora: { ...lora, extraTrainedParameters: [] } }, 'lora.extraTrainedParameters', /embed_tokens and norm/],
      [{ ...BAAI_TRAIN_SPEC, lora: { ...lora, alpha: 16.5 } }, 'lora.alpha', /integer/],
      [{ ...BAAI_TRAIN_SPEC, lora: { ...lora, targetModules: ['qkv'] } }, 'lora.targetModules', /unknown LoRA target module "qkv"/],
      [{ ...BAAI_PUBLISHED_TRAIN_SPEC, stage: { ...BAAI_PUBLISHED_TRAIN_SPEC.stage, batchSize: 12 } }, 'stage.batchSize', /not a multiple of the 8 GPUs/],
      [{ ...BAAI_TRAIN_SPEC, lora: undefined }, 'lora', /needs a lora section/],
    ];
    for (const [spec, field, message] of cases) {
      const e = thrown(() => renderJob(spec));
      expect(e.field, `${field}: ${e.message}`).toBe(field);
      expect(e.message).toMatch(message);
    }
  });
});

describe('mergekit', () => {
  it('extraction of the 1048K adapter at rank 32: exact argv', () => {
    const job = renderJob(GRADIENT_1048K_EXTRACT);
    expect(job.argv).toEqual([
      'mergekit-extract-lora',
      '--model', 'gradientai/Llama-3-70B-Instruct-Gradient-1048k',
      '--base-model', 'meta-llama/Meta-Llama-3-70B-Instruct',
      '--out-path', '/artifacts/adapters/llama-3-70b-1048k-r32',
      '--max-rank', '32',
      '--cuda',
    ]);
    expect(job.tool).toEqual({ id: 'mergekit', name: 'mergekit', version: '0.1.4' });
    expect(job.resources).toEqual({ gpus: 1, gpuType: null, nodes: 1, gpusPerNode: 1 });
    expect(job.outputs).toEqual(['file:///artifacts/adapters/llama-3-70b-1048k-r32']);
  });

  it('extraction options: embeddings as LoRA, full-rank modules, CPU', () => {
    const job = renderJob({ ...GRADIENT_1048K_EXTRACT, embedLora: true, saveModules: ['lm_head'], cuda: false });
    expect(job.argv.slice(9)).toEqual(['--embed-lora', '--save-module', 'lm_head']);
    expect(job.resources.gpus).toBe(0);
  });

  it('refuses mergekit releases with the positional syntax', () => {
    const e = thrown(() => renderJob({ ...GRADIENT_1048K_EXTRACT, mergekitVersion: '0.0.6' }));
    expect(e.field).toBe('mergekitVersion');
    expect(e.message).toMatch(/positional/);
  });

  it('merge: TARGET+LORA passthrough config, merge then config patch', () => {
    const job = renderJob(GRADIENT_1048K_MERGE);
    expect(job.files[0]).toEqual({
      path: 'merge.yml',
      content: 'models:\n  - model: /artifacts/models/llama-3-70b-finetune+/artifacts/adapters/llama-3-70b-1048k-r32\nmerge_method: passthrough\ndtype: bfloat16\n',
    });
    expect(job.steps).toEqual([
      ['mergekit-yaml', 'merge.yml', '/artifacts/models/llama-3-70b-finetune-1048k', '--lora-merge-cache', 'lora-merge-cache', '--cuda'],
      [
        'python3', 'patch_config.py', '/artifacts/models/llama-3-70b-finetune-1048k/config.json',
        '--rope-theta', '3580165449', '--max-position-embeddings', '1048576', '--rope-scaling', 'null',
      ],
    ]);
    expect(job.argv).toEqual([
      'sh', '-ec',
      'mergekit-yaml merge.yml /artifacts/models/llama-3-70b-finetune-1048k --lora-merge-cache lora-merge-cache --cuda\n' +
        'python3 patch_config.py /artifacts/models/llama-3-70b-finetune-1048k/config.json --rope-theta 3580165449 --max-position-embeddings 1048576 --rope-scaling null',
    ]);
  });

  it('a "+" in a path is refused: mergekit would split it', () => {
    const e = thrown(() => renderJob({ ...GRADIENT_1048K_MERGE, target: 'file:///models/a+b' }));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.field).toBe('target');
  });

  it.skipIf(!hasPython)('the rendered patch script sets rope_theta, max_position_embeddings and rope_scaling in config.json', () => {
    const job = renderJob({ ...GRADIENT_1048K_MERGE, ropeScaling: null });
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-patch-'));
    try {
      writeFileSync(join(dir, 'patch_config.py'), job.files[1]!.content);
      const cfg = join(dir, 'config.json');
      writeFileSync(cfg, JSON.stringify({ architectures: ['LlamaForCausalLM'], rope_theta: 500000.0, max_position_embeddings: 8192, rope_scaling: { type: 'dynamic', factor: 2 } }));
      const patch = job.steps[1]!;
      const out = execFileSync('python3', [patch[1]!, cfg, ...patch.slice(3)], { cwd: dir, encoding: 'utf8' });
      expect(out).toMatch(/^ctxlab: patched .*config\.json: \{"rope_theta": 500000, "max_position_embeddings": 8192, "rope_scaling": \{"type": "dynamic", "factor": 2\}\} -> \{"rope_theta": 3580165449, "max_position_embeddings": 1048576, "rope_scaling": null\}\n$/);
      expect(JSON.parse(readFileSync(cfg, 'utf8'))).toEqual({ architectures: ['LlamaForCausalLM'], rope_theta: 3580165449, max_position_embeddings: 1048576, rope_scaling: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vLLM serve', () => {
  it('360Zhinao on 8×A800-80G: exact argv and env', () => {
    const job = renderJob(ZHINAO_360K_SERVE);
    expect(job.argv).toEqual([
      'vllm', 'serve', 'qihoo360/Llama3-8B-Instruct-360K',
      '--tensor-parallel-size', '8',
      '--gpu-memory-utilization', '0.6',
      '--max-model-len', '365000',
      '--max-num-batched-tokens', '365000',
      '--max-num-seqs', '32',
      '--enforce-eager',
      '--trust-remote-code',
      '--served-model-name', 'llama3-8b-instruct-360k',
      '--host', '0.0.0.0',
      '--port', '8000',
    ]);
    // The published launch line, token for token, inside the rendered one.
    const published = '--tensor-parallel-size 8 --gpu-memory-utilization 0.6 --max-model-len 365000 --max-num-batched-tokens 365000 --max-num-seqs 32 --enforce-eager --trust-remote-code';
    expect(job.argv.join(' ')).toContain(published);
    expect(job.env).toEqual({ PYTORCH_CUDA_ALLOC_CONF: 'max_split_size_mb:256', VLLM_ALLOW_LONG_MAX_MODEL_LEN: '1' });
    expect(job.resources).toEqual({ gpus: 8, gpuType: 'A800-80G', nodes: 1, gpusPerNode: 8 });
    expect(job.service).toEqual({ port: 8000, healthPath: '/health', servedName: 'llama3-8b-instruct-360k' });
  });

  it('a RoPE base other than the config one goes through --hf-overrides; fp8 KV cache', () => {
    const job = renderJob({ ...ZHINAO_360K_SERVE, modelConfig: { ...ZHINAO_360K_SERVE.modelConfig, ropeTheta: 500_000 }, ropeTheta: 500_000_000, kvCacheDtype: 'fp8' });
    expect(job.argv[job.argv.indexOf('--hf-overrides') + 1]).toBe('{"rope_theta":500000000,"max_position_embeddings":365000}');
    expect(job.argv[job.argv.indexOf('--kv-cache-dtype') + 1]).toBe('fp8');
  });

  it('the api_server entrypoint takes the model as --model', () => {
    const job = renderJob({ ...ZHINAO_360K_SERVE, entrypoint: 'api-server', port: 8080 });
    expect(job.argv.slice(0, 5)).toEqual(['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'qihoo360/Llama3-8B-Instruct-360K']);
    expect(job.argv.slice(-2)).toEqual(['--port', '8080']);
  });

  it('refuses a max-model-len that cannot fit, naming the longest that would (WONT_FIT)', () => {
    const spec = parseJobSpec(GRADIENT_1048K_ON_4_H100);
    if (spec.kind !== 'serve') throw new Error('unreachable');
    const plan = planServing(servingInput(spec, 'x'));
    expect(plan.fits).toBe(false);
    expect(plan.maxModelLenThatFits).toBeGreaterThan(100_000);
    const e = thrown(() => renderJob(GRADIENT_1048K_ON_4_H100));
    expect(e.code).toBe('WONT_FIT');
    expect(e.field).toBe('maxModelLen');
    expect(e.message).toContain(`the longest max-model-len that fits on 4× H100 at gpu-memory-utilization 0.9 is ${plan.maxModelLenThatFits.toLocaleString('en-US')}`);
    expect(e.message).toContain('tensor-parallel-size 8 would fit 1,048,576');
    expect(findGpu('H100')).toBeDefined();
  });

  it('an unknown GPU needs its memory; an invalid TP is an INVALID_SPEC on tensorParallelSize', () => {
    expect(thrown(() => renderJob({ ...ZHINAO_360K_SERVE, gpuType: 'MI300X' })).field).toBe('gpuMemoryGiB');
    expect(renderJob({ ...ZHINAO_360K_SERVE, gpuType: 'MI300X', gpuMemoryGiB: 192 }).resources.gpuType).toBe('MI300X');
    const e = thrown(() => renderJob({ ...ZHINAO_360K_SERVE, tensorParallelSize: 3 }));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.field).toBe('tensorParallelSize');
  });
});

describe('spec validation', () => {
  it('names every bad field', () => {
    const e = thrown(() => renderJob({ ...GRADIENT_1048K_EXTRACT, finetuned: 'gradientai/x', output: 'hf://a/b', maxRank: 0 }));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.field).toBe('finetuned');
    expect(e.message).toMatch(/finetuned: "gradientai\/x" is not a usable artifact URI: expected file:\/\/\/…/);
    expect(e.message).toMatch(/output: outputs are written to file:\/\/ or s3:\/\/ locations/);
    expect(e.message).toMatch(/maxRank: must be positive/);
  });

  it('s3 inputs need a resolver', () => {
    const e = thrown(() => renderJob({ ...GRADIENT_1048K_EXTRACT, base: 's3://ctxlab-models/llama-3-70b' }));
    expect(e.code).toBe('UNRESOLVED_URI');
    expect(e.field).toBe('base');
    const job = renderJob({ ...GRADIENT_1048K_EXTRACT, base: 's3://ctxlab-models/llama-3-70b' }, { resolveUri: (u) => u.replace('s3://', '/mnt/s3/').replace('hf://', '').replace('file://', '') });
    expect(job.argv[4]).toBe('/mnt/s3/ctxlab-models/llama-3-70b');
  });
});
