// Block-wise 4-bit round-to-nearest quantization with zero points, in the layout of onnxruntime's
// com.microsoft.MatMulNBits: for a weight W[N, K] (Hugging Face's [out, in]), each row is cut into blocks of
// `blockSize` along K; every block has a scale and a 4-bit zero point and W ≈ (q - zeroPoint) * scale.
//   B           uint8 [N, blocks, blockSize/2]   two values per byte, the lower-index value in the low nibble
//   scales      [N * blocks]                     in the graph's float type
//   zero_points uint8 [N * ceil(blocks/2)]       two per byte, low nibble first, each row padded to a byte

export type Int4BlockSize = 32 | 64 | 128;

export interface Int4Weight {
  n: number;
  k: number;
  blockSize: Int4BlockSize;
  packed: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array;
}

export function int4Blocks(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/**
 * Quantizes W[N, K] (row-major). `roundScale` rounds each scale to the precision the graph stores it in
 * (float16 for fp16 graphs) before the values are quantized with it, so dequantizing the stored numbers
 * reproduces what onnxruntime computes.
 */
export function quantizeInt4(weight: Float32Array, n: number, k: number, blockSize: Int4BlockSize, roundScale: (x: number) => number = Math.fround): Int4Weight {
  const blocks = int4Blocks(k, blockSize);
  const zpStride = Math.ceil(blocks / 2);
  const packed = new Uint8Array(n * blocks * (blockSize / 2));
  const scales = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * zpStride);
  const halfBlock = blockSize / 2;
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const length = Math.min(blockSize, k - b * blockSize);
      // the range always includes 0, so zero weights (and the padding past K) stay exactly zero
      let min = 0;
      let max = 0;
      for (let i = start; i < start + length; i++) {
        const w = weight[i]!;
        if (w < min) min = w;
        else if (w > max) max = w;
      }
      const scale = roundScale((max - min) / 15);
      let zeroPoint = 8;
      if (scale !== 0) {
        zeroPoint = Math.round(-min / scale);
        zeroPoint = zeroPoint < 0 ? 0 : zeroPoint > 15 ? 15 : zeroPoint;
      }
      scales[row * blocks + b] = scale;
      zeroPoints[row * zpStride + (b >> 1)]! |= zeroPoint << ((b & 1) * 4);
      const out = (row * blocks + b) * halfBlock;
      for (let j = 0; j < halfBlock; j++) {
        const i = 2 * j;
        packed[out + j] = code(i < length ? weight[start + i]! : 0, scale, zeroPoint) | (code(i + 1 < length ? weight[start + i + 1]! : 0, scale, zeroPoint) << 4);
      }
    }
  }
  return { n, k, blockSize, packed, scales, zeroPoints };
}

function code(w: number, scale: number, zeroPoint: number): number {
  if (scale === 0) return zeroPoint;
  const q = Math.round(w / scale) + zeroPoint;
  return q < 0 ? 0 : q > 15 ? 15 : q;
}

/** W[N, K] as MatMulNBits sees it: (q - zeroPoint) * scale, read back from the packed bytes. */
export function dequantizeInt4(q: Int4Weight): Float32Array {
  const { n, k, blockSize } = q;
  const blocks = int4Blocks(k, blockSize);
  const zpStride = Math.ceil(blocks / 2);
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const b = Math.floor(col / blockSize);
      const within = col % blockSize;
      const byte = q.packed[(row * blocks + b) * (blockSize / 2) + Math.floor(within / 2)]!;
      const value = within % 2 === 0 ? byte & 0x0f : byte >> 4;
      const zpByte = q.zeroPoints[row * zpStride + Math.floor(b / 2)]!;
      const zeroPoint = b % 2 === 0 ? zpByte & 0x0f : zpByte >> 4;
      out[row * k + col] = (value - zeroPoint) * q.scales[row * blocks + b]!;
    }
  }
  return out;
}
