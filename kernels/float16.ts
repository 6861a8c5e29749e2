// Half-precision conversions (IEEE float16 and bfloat16), bit-exact with round-to-nearest-even,
// since Node 20 has no Float16Array.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits -> float16 bits, round to nearest even (overflow to infinity, NaN kept). */
export function float32BitsToFloat16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const x = bits & 0x7fffffff;
  if (x >= 0x47800000) return sign | (x > 0x7f800000 ? 0x7e00 : 0x7c00); // |value| >= 65536, infinity or NaN
  if (x >= 0x38800000) {
    // normal half: rebias the exponent and round the 13 dropped mantissa bits to nearest even in one add
    // (0xc8000fff = (15 - 127) << 23 plus just under half a unit); a carry into the exponent is still correct
    return sign | (((x + 0xc8000fff + ((x >>> 13) & 1)) >>> 0) >>> 13);
  }
  return sign | subnormalHalf(x);
}

/** |value| below 2^-14 (given as float32 bits without the sign): a float16 subnormal or zero. */
function subnormalHalf(x: number): number {
  const exponent = x >>> 23;
  if (exponent < 102) return 0; // below half of the smallest subnormal
  const mantissa = (x & 0x7fffff) | 0x800000;
  const shift = 126 - exponent; // 14 - (exponent - 127 + 15)
  const half = 1 << (shift - 1);
  const rest = mantissa & ((1 << shift) - 1);
  let h = mantissa >>> shift;
  if (rest > half || (rest === half && (h & 1))) h += 1;
  return h;
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32BitsToFloat16(bits[i]!);
  return out;
}

/**
 * float32 W[rows, cols] -> float16 bits of W^T[cols, rows], converting while transposing (in tiles, for
 * the cache) so no float16 copy of the untransposed matrix is needed.
 */
export function float32ToFloat16Transposed(values: Float32Array, rows: number, cols: number): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(rows * cols);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const r1 = Math.min(rows, r0 + tile);
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = float32BitsToFloat16(bits[r * cols + c]!);
    }
  }
  return out;
}

const float16Table = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = float16BitsToFloat32(h);
  return table;
})();

/** float16 bits -> value, by table. */
export function float16BitsToFloat32Fast(h: number): number {
  return float16Table[h]!;
}

export function float16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = float16Table[halves[i]!]!;
  return out;
}

/** The value float16 rounding gives (for references that mimic fp16 weights). */
export function roundToFloat16(x: number): number {
  f32[0] = x;
  return float16Table[float32BitsToFloat16(u32[0]!)]!;
}

export function bf16ToFloat32(halves: Uint16Array): Float32Array {
  // a bfloat16 is the high half of a float32: copy it there (little-endian), leaving the low half zero
  const out = new Float32Array(halves.length);
  const words = new Uint16Array(out.buffer);
  for (let i = 0; i < halves.length; i++) words[2 * i + 1] = halves[i]!;
  return out;
}

/** float32 bits -> bfloat16 bits, round to nearest even. */
export function float32BitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
