// Turns float32 weights into the bytes an ONNX initializer holds, in float32 or float16.
import { float32ToFloat16, float32ToFloat16Transposed } from './float16';
import type { IoDtype } from './sidecar';

export function floatBytes(values: Float32Array, dtype: IoDtype): Uint8Array {
  if (dtype === 'fp32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return new Uint8Array(float32ToFloat16(values).buffer);
}

/**
 * W[rows, cols] -> W^T[cols, rows] as bytes: Hugging Face stores Linear weights as [out, in] and ONNX
 * MatMul wants [in, out]. Done in tiles so large matrices stay cache-friendly.
 */
export function transposedBytes(values: Float32Array, rows: number, cols: number, dtype: IoDtype): Uint8Array {
  if (dtype === 'fp16') return new Uint8Array(float32ToFloat16Transposed(values, rows, cols).buffer);
  const out = new Float32Array(rows * cols);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const r1 = Math.min(rows, r0 + tile);
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = values[r * cols + c]!;
    }
  }
  return new Uint8Array(out.buffer);
}

/** Rows of several [rows_i, cols] matrices stacked into one [sum rows_i, cols]. */
export function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
