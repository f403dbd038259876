import type { HubFiles } from './files';
import { IssueLog } from './issues';
import { describe, isObject, type Json } from './json';

/** Bytes per element of each safetensors dtype (the format's own names). */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** The format refuses headers above 100 MB; a larger length means the first 8 bytes are not a safetensors length. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Elements: the product of `shape` (1 for a scalar). */
  numel: number;
  /** [begin, end) of the tensor's bytes, counted from the end of the header. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  file: string;
  /** Length of the JSON header (the u64 in the first 8 bytes). */
  headerBytes: number;
  /** Where tensor data ends, from the start of the file: 8 + headerBytes + the largest data offset. */
  expectedFileBytes: number;
  tensors: SafetensorsTensor[];
  /** The "__metadata__" map (e.g. {"format": "pt"}), or null. */
  metadata: Record<string, string> | null;
}

/**
 * Reads the header of a safetensors file: the first 8 bytes (little-endian u64 header length),
 * then that many bytes of JSON; tensor data is never read. Every problem throws a HubImportError
 * naming the file (and the tensor, when one is at fault).
 */
export async function readSafetensorsHeader(files: HubFiles, file: string): Promise<SafetensorsHeader> {
  const log = new IssueLog();
  const fail = (field: string, message: string): never => log.fail(file, field, message);
  const head = await files.readRange(file, 0, 8);
  if (head === null) return fail('(file)', 'is listed but cannot be read');
  if (head.byteLength < 8) return fail('header', `is ${head.byteLength} bytes long, too short for the 8-byte header length of a safetensors file`);
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n || n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    return fail('header', `header length ${n} (the first 8 bytes, little-endian) is ${n === 0n ? 'zero' : `above the format's limit of ${MAX_SAFETENSORS_HEADER_BYTES.toLocaleString('en-US')} bytes`}: not a safetensors file, or a corrupt one`);
  }
  const headerBytes = Number(n);
  const raw = await files.readRange(file, 8, 8 + headerBytes);
  if (raw === null || raw.byteLength < headerBytes) {
    return fail('header', `is truncated: the header should be ${headerBytes.toLocaleString('en-US')} bytes but the file ends after ${(raw?.byteLength ?? 0).toLocaleString('en-US')} (an interrupted download?)`);
  }
  let parsed: Json;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Json;
  } catch (e) {
    return fail('header', `header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) return fail('header', `header must be a JSON object, got ${describe(parsed)}`);

  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsTensor[] = [];
  let dataEnd = 0;
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isObject(entry) || Object.values(entry).some((v) => typeof v !== 'string')) return fail(name, '__metadata__ must map strings to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isObject(entry)) return fail(name, `tensor "${name}" must be an object with dtype, shape and data_offsets, got ${describe(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || SAFETENSORS_DTYPE_BYTES[dtype] === undefined) {
      return fail(name, `tensor "${name}" has dtype ${describe(dtype)}; expected one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      return fail(name, `tensor "${name}" has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      return fail(name, `tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
    }
    const dims = shape as number[];
    const [begin, end] = offsets as [number, number];
    const numel = dims.reduce((a, d) => a * d, 1);
    const bytes = numel * (SAFETENSORS_DTYPE_BYTES[dtype] ?? 0);
    if (end - begin !== bytes) {
      return fail(name, `tensor "${name}" (${dtype} ${JSON.stringify(dims)}) needs ${bytes.toLocaleString('en-US')} bytes but its data_offsets [${begin}, ${end}] span ${(end - begin).toLocaleString('en-US')}`);
    }
    dataEnd = Math.max(dataEnd, end);
    tensors.push({ name, dtype, shape: dims, numel, dataOffsets: [begin, end] });
  }
  const expectedFileBytes = 8 + headerBytes + dataEnd;
  const size = files.size ? await files.size(file) : null;
  if (size !== null && size < expectedFileBytes) {
    return fail('header', `is ${size.toLocaleString('en-US')} bytes but its header places tensor data up to byte ${expectedFileBytes.toLocaleString('en-US')}: the file is truncated (an interrupted download?)`);
  }
  return { file, headerBytes, expectedFileBytes, tensors, metadata };
}

/** Parameters and bytes of a set of safetensors files, by dtype. */
export interface WeightSummary {
  /** The safetensors files read, in order. */
  files: string[];
  tensors: number;
  params: number;
  bytes: number;
  /** Safetensors dtype (BF16, F32, …) → parameters and bytes stored in it. */
  byDtype: Record<string, { tensors: number; params: number; bytes: number }>;
}

export function summarise(headers: readonly SafetensorsHeader[]): WeightSummary {
  const byDtype: WeightSummary['byDtype'] = {};
  let tensors = 0;
  let params = 0;
  let bytes = 0;
  for (const h of headers) {
    for (const t of h.tensors) {
      const b = t.dataOffsets[1] - t.dataOffsets[0];
      const d = (byDtype[t.dtype] ??= { tensors: 0, params: 0, bytes: 0 });
      d.tensors += 1;
      d.params += t.numel;
      d.bytes += b;
      tensors += 1;
      params += t.numel;
      bytes += b;
    }
  }
  return { files: headers.map((h) => h.file), tensors, params, bytes, byDtype };
}
