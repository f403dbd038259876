import * as ort from 'onnxruntime-node';

/*
 * A plain matrix multiply on the same runtime the lab models run on: the ceiling ("roofline") a
 * model's forward pass could reach on this machine at a given thread count. The graph is one ONNX
 * MatMul node (opset 13), written here as protobuf bytes so that measuring it needs nothing but
 * onnxruntime-node. Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
 * ValueInfoProto, TypeProto, TensorShapeProto).
 */

const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
/** A varint field. */
const int = (field: number, n: number) => [...varint(field << 3), ...varint(n)];
/** A length-delimited field (string, bytes or message). */
const bytes = (field: number, body: readonly number[]) => [...varint((field << 3) | 2), ...varint(body.length), ...body];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);

const FLOAT = 1;
/** ValueInfoProto of a float tensor of a fixed shape. */
const tensorInfo = (name: string, dims: readonly number[]) =>
  [...str(1, name), ...bytes(2, bytes(1, [...int(1, FLOAT), ...bytes(2, dims.flatMap((d) => bytes(1, int(1, d))))]))];

/** The serialized ONNX model C = A · B, A m×k and B k×n, float32. */
export function matmulModel(m: number, k: number, n: number): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(3, 'matmul'), ...str(4, 'MatMul')];
  const graph = [...bytes(1, node), ...str(2, 'roofline'), ...bytes(11, tensorInfo('A', [m, k])), ...bytes(11, tensorInfo('B', [k, n])), ...bytes(12, tensorInfo('C', [m, n]))];
  const opset = [...str(1, ''), ...int(2, 13)];
  return Uint8Array.from([...int(1, 7), ...str(2, 'ctxlab-bench'), ...bytes(7, graph), ...bytes(8, opset)]);
}

/** A size³ float32 multiply, ready to run: `run` times one multiply and returns its GFLOP/s (2·size³ FLOPs). */
export interface Matmul {
  run(): Promise<number>;
  release(): Promise<void>;
}

/**
 * The matrix multiply on a session created with `options`, the lab models' own (sessionOptions),
 * so that the ceiling is measured with the same threads, pinning and spinning as the model.
 */
export async function openMatmul(options: ort.InferenceSession.SessionOptions, size = 1024): Promise<Matmul> {
  const s = await ort.InferenceSession.create(matmulModel(size, size, size), options);
  const a = new ort.Tensor('float32', Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5), [size, size]);
  const b = new ort.Tensor('float32', Float32Array.from({ length: size * size }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5), [size, size]);
  return {
    run: async () => {
      const t0 = performance.now();
      await s.run({ A: a, B: b });
      return (2 * size ** 3) / ((performance.now() - t0) / 1000) / 1e9;
    },
    release: () => s.release(),
  };
}
