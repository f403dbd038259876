import { BAAI_LLAMA3_8B_80K_QLORA, LLAMA3_70B } from '@ctxlab/longctx';
import { describe, expect, it } from 'vitest';
import type { JobSpecInput } from '../specs';
import { BAAI_TRAIN_SPEC, GRADIENT_1048K_EXTRACT, GRADIENT_1048K_MERGE, GRADIENT_1048K_ON_4_H100, GRADIENT_TRAIN_SPECS, ZHINAO_360K_SERVE } from '../testing/seeds';
import { loadYaml, pyyaml } from '../testing/pyyaml';
import { checkArgs, checkConfig, checkJobContracts, configContract, CONTRACT_IDS, parseToolContract, TOOL_CONTRACTS, type ContractId } from './contracts';
import { renderJob } from './index';
import { mergeConfigDocument } from './mergekit';
import { accelerateConfigDocument } from './train';
import type { RenderedJob } from './types';

/** The contracts each kind of job's steps are checked against, in order. */
const expectPrograms = (job: RenderedJob, ids: ContractId[]) => {
  const report = checkJobContracts(job);
  expect(report.issues, report.issues.map((i) => i.message).join('\n')).toEqual([]);
  expect(report.programs.map((p) => p.contract)).toEqual(ids);
  return report;
};

/** A rendered job with one word of its single step replaced. */
const withWord = (job: RenderedJob, from: string, to: string): RenderedJob => {
  const argv = job.argv.map((w) => (w === from ? to : w));
  expect(argv).not.toEqual(job.argv);
  return { ...job, argv, steps: [argv] };
};


describe('the contract fixtures', () => {
  it('every fixture parses, and names the repository and the commit (or, unread, the release) it was read from', () => {
    for (const id of CONTRACT_IDS) {
      const c = TOOL_CONTRACTS[id];
      expect(c.id).toBe(id);
      for (const s of c.sources) expect(s.commit !== undefined || (s.release !== undefined && s.read === 'unverified'), `${id}: ${s.repository}`).toBe(true);
    }
    expect(TOOL_CONTRACTS['easycontext-train'].sources[0]).toMatchObject({ repository: 'jzhang38/EasyContext', commit: '6b0d31047e4e326cbd603f89d57cf8b1db3ff762', read: 'fetched' });
    expect(TOOL_CONTRACTS['accelerate-launch'].sources[0]).toMatchObject({ repository: 'huggingface/accelerate', commit: '9e72c6129685b796841d9f426af9d98e60d9f1b0' });
    expect(TOOL_CONTRACTS['mergekit-yaml'].sources[0]).toMatchObject({ repository: 'arcee-ai/mergekit', commit: '7683563fbcd046fbcc3aa0f5980ec94b84135de5' });
    expect(TOOL_CONTRACTS['longllm-qlora-train'].sources.map((s) => s.read)).toEqual(['fetched', 'unverified']);
  });

  it('a fixture that lists an option twice, or gives a flag a value type, is refused', () => {
    const base = { contract: 1, id: 'x', name: 'x', sources: [{ repository: 'a/b', commit: 'a'.repeat(40), paths: ['x.py'], read: 'fetched' }], parser: { kind: 'argparse' }, positionals: [], remainder: false };
    expect(() => parseToolContract({ ...base, flags: [{ names: ['--a'], type: 'int' }, { names: ['--a'], type: 'str' }] })).toThrow(/x: .*--a is listed twice/);
    expect(() => parseToolContract({ ...base, flags: [{ names: ['--a'], type: 'flag', choices: ['1'] }] })).toThrow(/--a takes no value/);
    expect(() => parseToolContract({ ...base, sources: [{ repository: 'a/b', paths: ['x.py'], read: 'fetched' }], flags: [] })).toThrow(/a source names a commit or a release/);
  });
});

describe('every command rendered for the seeded specs keeps to its tool contract', () => {
  it('EasyContext, Gradient 70B → 1048K: all four stages on 16–64 machines (accelerate launch → train.py)', () => {
    for (const spec of GRADIENT_TRAIN_SPECS) {
      const report = expectPrograms(renderJob(spec), ['accelerate-launch', 'easycontext-train']);
      expect(report.programs[0]!.checked.options.get('--machine_rank')).toEqual(['$(CTXLAB_NODE_RANK)']);
    }
  });

  it('EasyContext on one machine, every parallel mode, with and without offload', () => {
    const base = GRADIENT_TRAIN_SPECS[3]!;
    for (const parallelMode of ['zigzag_ring_attn', 'dist_flash_attn', 'ulysses_attn', 'usp_attn', 'data_parallel'] as const) {
      for (const offload of [true, false]) {
        expectPrograms(renderJob({ ...base, offload, stage: { ...base.stage, gpus: 8, parallelMode, learningRate: 1e-5 } }), ['accelerate-launch', 'easycontext-train']);
      }
    }
  });

  it('the accelerate configs (one machine and many) hold only keys accelerate 0.28 reads', () => {
    const config = configContract('accelerate-launch', 'accelerate.yaml');
    for (const nodes of [1, 16]) {
      expect(checkConfig(accelerateConfigDocument({ nodes, processes: nodes * 8, masterPort: 29500 }), config, TOOL_CONTRACTS['accelerate-launch'])).toEqual([]);
    }
  });

  it('QLoRA (longllm_qlora): the seed and its option combinations (torchrun → main.train)', () => {
    const lora = BAAI_LLAMA3_8B_80K_QLORA.lora!;
    const variants: JobSpecInput[] = [
      BAAI_TRAIN_SPEC,
      { ...BAAI_TRAIN_SPEC, lora: { ...lora, targetModules: ['all-linear'], extraTrainedParameters: ['embed_tokens', 'norm'] } },
      { ...BAAI_TRAIN_SPEC, lora: { ...lora, quantization: 'none', gradientCheckpointing: false } },
      { ...BAAI_TRAIN_SPEC, chatTemplate: 'mistral', seed: 7 },
    ];
    for (const spec of variants) expectPrograms(renderJob(spec), ['torchrun', 'longllm-qlora-train']);
  });

  it('LoRA extraction (mergekit-extract-lora), with every option', () => {
    expectPrograms(renderJob(GRADIENT_1048K_EXTRACT), ['mergekit-extract-lora']);
    expectPrograms(renderJob({ ...GRADIENT_1048K_EXTRACT, embedLora: true, saveModules: ['lm_head', 'model.embed_tokens'], cuda: false }), ['mergekit-extract-lora']);
  });

  it('LoRA merge (mergekit-yaml, then ctxlab\'s own config patch), and its merge.yml', () => {
    const merges = [GRADIENT_1048K_MERGE, { ...GRADIENT_1048K_MERGE, cache: 'file:///artifacts/cache/lora-merge', cuda: false, dtype: 'float32' as const }];
    for (const spec of merges) {
      const report = expectPrograms(renderJob(spec), ['mergekit-yaml']);
      expect(report.unchecked.map((step) => step[1])).toEqual(['patch_config.py']);
    }
    const config = configContract('mergekit-yaml', 'merge.yml');
    for (const dtype of ['bfloat16', 'float16', 'float32'] as const) {
      expect(checkConfig(mergeConfigDocument('/models/target', '/adapters/lora', dtype), config, TOOL_CONTRACTS['mergekit-yaml'])).toEqual([]);
    }
  });

  it.skipIf(!pyyaml)('the YAML files as written, read back with PyYAML, hold to the same contracts', () => {
    const files = [
      [renderJob(GRADIENT_TRAIN_SPECS[3]!).files[0]!, 'accelerate-launch'],
      [renderJob({ ...GRADIENT_TRAIN_SPECS[3]!, stage: { ...GRADIENT_TRAIN_SPECS[3]!.stage, gpus: 8 } }).files[0]!, 'accelerate-launch'],
      [renderJob(GRADIENT_1048K_MERGE).files[0]!, 'mergekit-yaml'],
    ] as const;
    for (const [file, id] of files) expect(checkConfig(loadYaml(file.content), configContract(id, file.path), TOOL_CONTRACTS[id])).toEqual([]);
  });

  it('vLLM serve plans: 360K on 8×A800, both entrypoints, fp8 and bf16 caches, chunked prefill, a RoPE override, 1M tokens on 8×H100', () => {
    const gradient1m = { ...GRADIENT_1048K_ON_4_H100, tensorParallelSize: 8 };
    const serves: JobSpecInput[] = [
      ZHINAO_360K_SERVE,
      { ...ZHINAO_360K_SERVE, entrypoint: 'api-server', port: 8080, host: '127.0.0.1' },
      { ...ZHINAO_360K_SERVE, kvCacheDtype: 'fp8', enableChunkedPrefill: true, maxNumBatchedTokens: 8192, enforceEager: false, trustRemoteCode: false },
      { ...ZHINAO_360K_SERVE, modelConfig: { ...ZHINAO_360K_SERVE.modelConfig, dtype: 'fp16' }, kvCacheDtype: 'bf16' },
      { ...ZHINAO_360K_SERVE, modelConfig: { ...ZHINAO_360K_SERVE.modelConfig, ropeTheta: 500_000 }, ropeTheta: 500_000_000 },
      gradient1m,
      { ...gradient1m, kvCacheDtype: 'fp8', entrypoint: 'api-server' },
      { ...gradient1m, modelConfig: { ...LLAMA3_70B, maxPositionEmbeddings: 8192 }, ropeTheta: 3_580_165_449 },
    ];
    const seen = new Set<string>();
    for (const spec of serves) {
      const report = expectPrograms(renderJob(spec), ['vllm-serve']);
      for (const k of report.programs[0]!.checked.options.keys()) seen.add(k);
    }
    // The combinations reach every option the serving plan emits.
    expect([...seen].sort()).toEqual(
      [
        '--dtype', '--enable-chunked-prefill', '--enforce-eager', '--gpu-memory-utilization', '--host', '--hf-overrides', '--kv-cache-dtype', '--max-model-len',
        '--max-num-batched-tokens', '--max-num-seqs', '--model', '--port', '--served-model-name', '--tensor-parallel-size', '--trust-remote-code',
      ].sort(),
    );
  });
});

describe('a command that leaves its contract fails the check, saying what and where', () => {
  it('a misspelt vLLM option names the option, the tool, the commits and the closest real option', () => {
    const job = withWord(renderJob(ZHINAO_360K_SERVE), '--max-model-len', '--max-model-length');
    const { issues } = checkJobContracts(job);
    expect(issues).toEqual([
      {
        kind: 'unknown-flag',
        tool: 'vllm-serve',
        subject: '--max-model-length',
        closest: '--max-model-len',
        message: 'vllm serve (vllm-project/vllm@001999d2f360, vllm-project/vllm@005223338608): --max-model-length is not an option; the closest is --max-model-len',
      },
    ]);
  });

  it('a misspelt EasyContext option, and one spelt with the wrong separator', () => {
    const job = renderJob(GRADIENT_TRAIN_SPECS[0]!);
    expect(checkJobContracts(withWord(job, '--rope-theta', '--rope-theat')).issues.map((i) => i.message)).toEqual([
      'EasyContext train.py (jzhang38/EasyContext@6b0d31047e4e): --rope-theat is not an option; the closest is --rope-theta',
    ]);
    // argparse takes --rope_theta for a different option; vLLM's parser would have read it as --rope-theta.
    expect(checkJobContracts(withWord(job, '--rope-theta', '--rope_theta')).issues.map((i) => i.closest)).toEqual(['--rope-theta']);
    expect(checkArgs(['--max_model_len', '4096'], TOOL_CONTRACTS['vllm-serve']).issues).toEqual([]);
  });

  it('values of the wrong type, outside the choices, or missing', () => {
    const vllm = TOOL_CONTRACTS['vllm-serve'];
    const kinds = (args: string[]) => checkArgs(args, vllm).issues.map((i) => `${i.kind} ${i.subject}`);
    expect(kinds(['m', '--max-model-len', '1M'])).toEqual(['wrong-type --max-model-len']);
    expect(kinds(['m', '--gpu-memory-utilization', 'most'])).toEqual(['wrong-type --gpu-memory-utilization']);
    expect(kinds(['m', '--hf-overrides', '{rope_theta: 1}'])).toEqual(['wrong-type --hf-overrides']);
    expect(kinds(['m', '--enforce-eager=true'])).toEqual(['wrong-type --enforce-eager']);
    expect(kinds(['m', '--enable-chunked-prefill', 'yes'])).toEqual(['wrong-type --enable-chunked-prefill']);
    expect(kinds(['m', '--enable-chunked-prefill', 'False', '--enable-chunked-prefill'])).toEqual([]);
    expect(kinds(['m', '--kv-cache-dtype', 'fp4'])).toEqual(['not-a-choice --kv-cache-dtype']);
    expect(kinds(['m', '--served-model-name', '--port', '8000'])).toEqual(['missing-value --served-model-name']);
    expect(kinds(['m', 'extra'])).toEqual(['extra-argument extra']);
    expect(checkArgs(['m', '--kv-cache-dtype', 'fp4'], vllm).issues[0]!.message).toBe(
      'vllm serve (vllm-project/vllm@001999d2f360, vllm-project/vllm@005223338608): --kv-cache-dtype "fp4" is not one of auto, fp8, fp8_e5m2, fp8_e4m3',
    );
  });

  it('required options and positionals, and run-time values the executor fills in', () => {
    const issues = (id: ContractId, args: string[], opts = {}) => checkArgs(args, TOOL_CONTRACTS[id], opts).issues.map((i) => i.message);
    expect(issues('easycontext-train', ['--model', 'm'])).toEqual(['EasyContext train.py (jzhang38/EasyContext@6b0d31047e4e): --output-dir is required']);
    expect(issues('mergekit-yaml', ['merge.yml', '--cuda'])).toEqual(['mergekit-yaml (arcee-ai/mergekit@7683563fbcd0): the out_path argument is required']);
    expect(issues('mergekit-extract-lora', ['--model', 'a', '--base-model', 'b'])).toEqual(['mergekit-extract-lora (arcee-ai/mergekit@7683563fbcd0): --out-path is required']);
    // --machine_rank is an integer once the kubelet has expanded $(CTXLAB_NODE_RANK); unexpanded, it is not.
    expect(issues('accelerate-launch', ['--machine_rank', '$(CTXLAB_NODE_RANK)', 'train.py'])).toEqual([]);
    expect(issues('accelerate-launch', ['--machine_rank', '$(CTXLAB_NODE_RANK)', 'train.py'], { runtimeValues: {} })).toEqual([
      'accelerate launch (huggingface/accelerate@9e72c6129685): --machine_rank "$(CTXLAB_NODE_RANK)" is not an integer',
    ]);
  });

  it('a launcher hands the words after its script to the launched program\'s contract', () => {
    const { programs, issues } = checkJobContracts(withWord(renderJob(BAAI_TRAIN_SPEC), '--lora_rank', '--lora-rank'));
    expect(programs.map((p) => p.contract)).toEqual(['torchrun', 'longllm-qlora-train']);
    expect(programs[0]!.checked.positionals).toEqual(['main.train']);
    expect(issues.map((i) => `${i.tool} ${i.subject} ${i.closest}`)).toEqual(['longllm-qlora-train --lora-rank --lora_rank']);
  });

  it('config files: an unknown key, an unknown merge method, a model reference mergekit cannot split, a key of the wrong type', () => {
    const merge = configContract('mergekit-yaml', 'merge.yml');
    const mergekit = TOOL_CONTRACTS['mergekit-yaml'];
    const doc = mergeConfigDocument('/models/target', '/adapters/lora', 'bfloat16');
    expect(checkConfig({ ...doc, merge_methods: 'passthrough' }, merge, mergekit).map((i) => i.message)).toEqual([
      'mergekit-yaml (arcee-ai/mergekit@7683563fbcd0): merge.yml: merge_methods is not a key it reads, which the tool ignores; the closest is merge_method',
    ]);
    expect(checkConfig({ ...doc, merge_method: 'passthru' }, merge, mergekit).map((i) => `${i.kind} ${i.subject}`)).toEqual(['not-a-choice merge.yml: merge_method']);
    expect(checkConfig({ ...doc, models: [{ model: '/a+b+c' }] }, merge, mergekit).map((i) => `${i.kind} ${i.subject}`)).toEqual(['wrong-type merge.yml: models.0.model']);
    expect(checkConfig({ ...doc, dtype: 'bf16' }, merge, mergekit).map((i) => i.kind)).toEqual(['not-a-choice']);
    const { models: _models, ...noModels } = doc;
    expect(checkConfig(noModels, merge, mergekit).map((i) => i.message)).toEqual([
      'mergekit-yaml (arcee-ai/mergekit@7683563fbcd0): merge.yml: (document) needs exactly one of models, slices, modules; it has none',
    ]);

    const accelerate = configContract('accelerate-launch', 'accelerate.yaml');
    const cfg = accelerateConfigDocument({ nodes: 2, processes: 16, masterPort: 29500 });
    const { num_processes: processes, ...rest } = cfg;
    expect(checkConfig({ ...rest, num_process: processes }, accelerate, TOOL_CONTRACTS['accelerate-launch']).map((i) => `${i.kind} ${i.subject} ${i.closest ?? ''}`)).toEqual([
      'unknown-key accelerate.yaml: num_process num_processes',
      'missing-required accelerate.yaml: num_processes ',
    ]);
    expect(
      checkConfig({ ...cfg, deepspeed_config: { deepspeed_config_file: 'ds.json', zero_3_init_flag: false } }, accelerate, TOOL_CONTRACTS['accelerate-launch']).map((i) => i.closest),
    ).toEqual(['zero3_init_flag']);
    expect(checkConfig({ ...cfg, num_machines: '2' }, accelerate, TOOL_CONTRACTS['accelerate-launch']).map((i) => i.kind)).toEqual(['wrong-type']);
  });
});
