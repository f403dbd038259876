import { mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MODEL_FAMILY_TRAITS, attentionBiases } from '@ctxlab/contracts';
import { tiedEmbeddings, type LlamaShape } from '@ctxlab/longctx';
import { SAFETENSORS_DTYPE_BYTES } from './safetensors';

// Test helpers: synthetic safetensors checkpoints whose headers match a real architecture.

export interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

/** A safetensors header (8-byte length + JSON, padded with spaces to 8 bytes as the Rust writer does) and the data length after it. */
export function safetensorsHeader(tensors: readonly TensorSpec[], metadata: Record<string, string> = { format: 'pt' }): { header: Uint8Array; dataBytes: number } {
  const json: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, d) => a * d, 1) * (SAFETENSORS_DTYPE_BYTES[t.dtype] ?? NaN);
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(json);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const body = new TextEncoder().encode(text);
  const header = new Uint8Array(8 + body.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  header.set(body, 8);
  return { header, dataBytes: offset };
}

/** Writes the header and extends the file to its full size without writing data: a sparse file, a hole past the header. */
export async function writeSparseSafetensors(path: string, tensors: readonly TensorSpec[]): Promise<number> {
  const { header, dataBytes } = safetensorsHeader(tensors);
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  try {
    await fh.write(header, 0, header.byteLength, 0);
    await fh.truncate(header.byteLength + dataBytes);
  } finally {
    await fh.close();
  }
  return dataBytes;
}

/** Every tensor of a decoder checkpoint of this shape, named as transformers saves it. */
export function decoderTensors(c: LlamaShape, dtype = 'BF16'): TensorSpec[] {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const bias = attentionBiases(c);
  const gemma = MODEL_FAMILY_TRAITS[c.architecture ?? 'llama'].normsPerLayer === 4;
  const out: TensorSpec[] = [{ name: 'model.embed_tokens.weight', dtype, shape: [c.vocabSize, h] }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const t = (name: string, shape: number[]) => out.push({ name: `${p}.${name}`, dtype, shape });
    t('input_layernorm.weight', [h]);
    t('mlp.down_proj.weight', [h, I]);
    t('mlp.gate_proj.weight', [I, h]);
    t('mlp.up_proj.weight', [I, h]);
    t('post_attention_layernorm.weight', [h]);
    if (gemma) {
      t('post_feedforward_layernorm.weight', [h]);
      t('pre_feedforward_layernorm.weight', [h]);
    }
    t('self_attn.k_proj.weight', [kv, h]);
    t('self_attn.o_proj.weight', [h, q]);
    t('self_attn.q_proj.weight', [q, h]);
    t('self_attn.v_proj.weight', [kv, h]);
    if (bias.qkv) {
      t('self_attn.k_proj.bias', [kv]);
      t('self_attn.q_proj.bias', [q]);
      t('self_attn.v_proj.bias', [kv]);
    }
    if (bias.o) t('self_attn.o_proj.bias', [h]);
  }
  out.push({ name: 'model.norm.weight', dtype, shape: [h] });
  if (!tiedEmbeddings(c)) out.push({ name: 'lm_head.weight', dtype, shape: [c.vocabSize, h] });
  return out;
}

/**
 * Writes `tensors` as `shards` sparse safetensors files (model-0000i-of-0000n.safetensors, split
 * into runs of about equal bytes) and the model.safetensors.index.json naming them.
 */
export async function writeShardedCheckpoint(dir: string, tensors: readonly TensorSpec[], shards: number): Promise<void> {
  const bytes = (t: TensorSpec) => t.shape.reduce((a, d) => a * d, 1) * (SAFETENSORS_DTYPE_BYTES[t.dtype] ?? NaN);
  const total = tensors.reduce((a, t) => a + bytes(t), 0);
  const groups: TensorSpec[][] = Array.from({ length: shards }, () => []);
  let acc = 0;
  for (const t of tensors) {
    groups[Math.min(shards - 1, Math.floor((acc / total) * shards))]?.push(t);
    acc += bytes(t);
  }
  const pad = (n: number) => String(n).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  for (const [i, g] of groups.entries()) {
    const file = `model-${pad(i + 1)}-of-${pad(shards)}.safetensors`;
    await writeSparseSafetensors(join(dir, file), g);
    for (const t of g) weightMap[t.name] = file;
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
}

/** The tensors of a PEFT LoRA on every layer of a decoder (names as PEFT saves them), F32 as PEFT keeps them. */
export function loraTensors(c: LlamaShape, rank: number, modules: readonly string[], dtype = 'F32'): TensorSpec[] {
  const h = c.hiddenSize;
  const q = c.numAttentionHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const I = c.intermediateSize;
  const dims: Record<string, [string, number, number]> = {
    q_proj: ['self_attn', h, q],
    k_proj: ['self_attn', h, kv],
    v_proj: ['self_attn', h, kv],
    o_proj: ['self_attn', q, h],
    gate_proj: ['mlp', h, I],
    up_proj: ['mlp', h, I],
    down_proj: ['mlp', I, h],
  };
  const out: TensorSpec[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    for (const m of modules) {
      const [block, inF, outF] = dims[m] ?? ['?', 0, 0];
      const p = `base_model.model.model.layers.${i}.${block}.${m}`;
      out.push({ name: `${p}.lora_A.weight`, dtype, shape: [rank, inF] }, { name: `${p}.lora_B.weight`, dtype, shape: [outF, rank] });
    }
  }
  return out;
}
