import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/thrown';
import { renderJob } from './index';

const LAB = { numLayers: 4, hiddenSize: 128, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 32, intermediateSize: 384, vocabSize: 259, ropeTheta: 10_000, maxPositionEmbeddings: 512, tokenizer: 'byte' };
const opts = { labModelDir: '/repo/tools/lab-model', python: '/usr/bin/python3', labServer: ['node', 'server.ts'] };

describe('lab renderers', () => {
  it('train: a context-extension stage of the lab model, on the CPU, at the stage length and theta', () => {
    const stage = { name: 'lab-2k', seqLength: 2048, ropeTheta: 154_243, batchSize: 2, gradientAccumulation: 2, steps: 100, learningRate: 1e-3, gpus: 1, gpuType: 'cpu' };
    const job = renderJob({ kind: 'train', trainer: 'lab', model: 'file:///m/lab-stage1.onnx', output: 'file:///out/lab-2k', stage, seed: 6 }, opts);
    expect(job.argv).toEqual([
      '/usr/bin/python3', '/repo/tools/lab-model/train.py', '--stage', '2', '--init', '/m/lab-stage1.onnx', '--theta', '154243', '--seq-len', '2048', '--lengths', '2048:1',
      '--steps', '100', '--lr', '0.001', '--batch-tokens', '8192', '--seed', '6', '--device', 'cpu', '--threads', '1', '--eval-every', '0', '--out', '/out/lab-2k',
    ]);
    expect(job.resources).toEqual({ gpus: 0, gpuType: null, nodes: 1, gpusPerNode: 0 });
    expect(job.outputs).toEqual(['file:///out/lab-2k']);
    const cuda = renderJob({ kind: 'train', trainer: 'lab', model: 'file:///m/x', output: 'file:///o', stage: { ...stage, gpuType: 'l40s-48gb' }, device: 'cuda' }, opts);
    expect(cuda.resources).toEqual({ gpus: 1, gpuType: 'l40s-48gb', nodes: 1, gpusPerNode: 1 });
  });

  it('train: datasets and LoRA sections are refused for the lab trainer, and required for the others', () => {
    const stage = { name: 's', seqLength: 1024, ropeTheta: 40_000, batchSize: 1, steps: 3, learningRate: 1e-3, gpus: 1, gpuType: 'cpu' };
    expect(thrown(() => renderJob({ kind: 'train', trainer: 'lab', model: 'file:///m', output: 'file:///o', stage, datasets: ['file:///d'] })).message).toMatch(/datasets: the lab trainer reads its built-in haystack corpus/);
    expect(thrown(() => renderJob({ kind: 'train', trainer: 'easycontext', model: 'hf://a/b', output: 'file:///o', stage })).message).toMatch(/datasets: must name at least one dataset/);
  });

  it('lora-extract and lora-merge: lora.py with the source model\'s RoPE fields', () => {
    const x = renderJob({ kind: 'lora-extract', tool: 'lab', finetuned: 'file:///m/ft', base: 'file:///m/base', output: 'file:///a/r8', maxRank: 8, cuda: false }, opts);
    expect(x.argv).toEqual(['/usr/bin/python3', '/repo/tools/lab-model/lora.py', 'extract', '--model', '/m/ft', '--base', '/m/base', '--out', '/a/r8', '--max-rank', '8']);
    expect(x.resources.gpus).toBe(0);
    const m = renderJob({ kind: 'lora-merge', tool: 'lab', target: 'file:///m/t', lora: 'file:///a/r8', output: 'file:///m/merged', ropeTheta: 154_243, maxPositionEmbeddings: 2048 }, opts);
    expect(m.argv).toEqual(['/usr/bin/python3', '/repo/tools/lab-model/lora.py', 'merge', '--target', '/m/t', '--lora', '/a/r8', '--out', '/m/merged', '--rope-theta', '154243', '--max-position-embeddings', '2048']);
    expect(thrown(() => renderJob({ kind: 'lora-extract', tool: 'lab', finetuned: 'file:///a', base: 'file:///b', output: 'file:///c', maxRank: 8, embedLora: true })).field).toBe('embedLora');
    expect(thrown(() => renderJob({ kind: 'lora-merge', tool: 'lab', target: 'file:///a', lora: 'file:///b', output: 'file:///c', ropeTheta: 1e6, maxPositionEmbeddings: 4096, ropeScaling: { type: 'linear', factor: 2 } })).field).toBe('ropeScaling');
  });

  it('serve: the lab model server, configured through its environment, with a health check', () => {
    const job = renderJob({ kind: 'serve', engine: 'lab', model: 'file:///m/merged', servedName: 'lab-merged', modelConfig: LAB, maxModelLen: 8192, host: '127.0.0.1', port: 18123 }, opts);
    expect(job.argv).toEqual(['node', 'server.ts']);
    expect(job.env).toEqual({ MODEL_SERVER_MODEL: '/m/merged', MODEL_SERVER_MODEL_NAME: 'lab-merged', MODEL_SERVER_MAX_MODEL_LEN: '8192', MODEL_SERVER_HOST: '127.0.0.1', MODEL_SERVER_PORT: '18123' });
    expect(job.service).toEqual({ port: 18123, healthPath: '/health', servedName: 'lab-merged' });
    expect(job.resources.gpus).toBe(0);
    const llama = { ...LAB, vocabSize: 128_256, tokenizer: 'llama3' };
    expect(thrown(() => renderJob({ kind: 'serve', engine: 'lab', model: 'hf://a/b', servedName: 'x', modelConfig: llama, maxModelLen: 8192 })).message).toMatch(/vocabulary 259.*128,256: use engine "vllm"/);
    expect(thrown(() => renderJob({ kind: 'serve', model: 'hf://a/b', servedName: 'x', modelConfig: llama, maxModelLen: 8192 })).field).toBe('gpuType');
  });
});
