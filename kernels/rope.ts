// Rotary position embeddings: inverse frequencies and attention scaling exactly as Hugging Face
// transformers computes them (modeling_rope_utils), in float32 like torch does, and the cos/sin caches that
// GroupQueryAttention reads ([maxPositions, headDim/2], rotate_half layout).
import type { DecoderConfig, RopeScaling } from './hfConfig';

const f = Math.fround;

function defaultInvFreq(base: number, dim: number): Float32Array {
  const out = new Float32Array(dim / 2);
  // torch: 1 / (base ** (arange(0, dim, 2).float() / dim)), all in float32
  for (let i = 0; i < dim / 2; i++) out[i] = f(1 / f(base ** f((2 * i) / dim)));
  return out;
}

export interface RopeParameters {
  invFreq: Float32Array;
  /** Multiplies cos and sin (YaRN's attention scaling; 1 otherwise). */
  attentionFactor: number;
}

/**
 * inv_freq and attention factor for `scaling`. `seqLen` matters only for 'dynamic' (the current sequence
 * length; transformers recomputes the base when it exceeds max_position_embeddings).
 */
export function ropeParameters(theta: number, dim: number, scaling: RopeScaling, maxPositionEmbeddings: number, seqLen?: number): RopeParameters {
  switch (scaling.type) {
    case 'default':
      return { invFreq: defaultInvFreq(theta, dim), attentionFactor: 1 };
    case 'linear': {
      const invFreq = defaultInvFreq(theta, dim).map((x) => f(x / scaling.factor));
      return { invFreq, attentionFactor: 1 };
    }
    case 'dynamic': {
      const len = seqLen !== undefined && seqLen > maxPositionEmbeddings ? seqLen : maxPositionEmbeddings;
      const base = theta * ((scaling.factor * len) / maxPositionEmbeddings - (scaling.factor - 1)) ** (dim / (dim - 2));
      return { invFreq: defaultInvFreq(base, dim), attentionFactor: 1 };
    }
    case 'llama3': {
      const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
      const lowFreqWavelen = old / lowFreqFactor;
      const highFreqWavelen = old / highFreqFactor;
      const invFreq = defaultInvFreq(theta, dim).map((x) => {
        const wavelen = f((2 * Math.PI) / x);
        if (wavelen < highFreqWavelen) return x;
        if (wavelen > lowFreqWavelen) return f(x / factor);
        const smooth = f((old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
        return f(f((1 - smooth) * f(x / factor)) + f(smooth * x));
      });
      return { invFreq, attentionFactor: 1 };
    }
    case 'yarn': {
      const { factor, betaFast, betaSlow, originalMaxPositionEmbeddings: original } = scaling;
      const mscale = (scale: number, m = 1): number => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
      const attentionFactor = scaling.attentionFactor
        ?? (scaling.mscale && scaling.mscaleAllDim ? mscale(factor, scaling.mscale) / mscale(factor, scaling.mscaleAllDim) : mscale(factor));
      const correctionDim = (rotations: number): number => (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
      let low = correctionDim(betaFast);
      let high = correctionDim(betaSlow);
      if (scaling.truncate) { low = Math.floor(low); high = Math.ceil(high); }
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001; // transformers avoids the division by zero the same way
      const invFreq = new Float32Array(dim / 2);
      for (let i = 0; i < dim / 2; i++) {
        const posFreq = f(theta ** f((2 * i) / dim));
        const extrapolation = f(1 / posFreq);
        const interpolation = f(1 / f(factor * posFreq));
        const ramp = Math.min(1, Math.max(0, f((i - low) / (high - low))));
        const extrapolationFactor = f(1 - ramp);
        invFreq[i] = f(f(interpolation * f(1 - extrapolationFactor)) + f(extrapolation * extrapolationFactor));
      }
      return { invFreq, attentionFactor };
    }
  }
}

export interface RotaryCaches {
  /** [positions, dim/2], row-major. */
  cos: Float32Array;
  sin: Float32Array;
  positions: number;
  halfDim: number;
}

/**
 * cos/sin for positions 0..positions-1. For 'dynamic' scaling, position p uses the frequencies transformers
 * has when the sequence is p+1 tokens long: what token-by-token generation with a KV cache computes for the
 * newest token, and the only form a fixed cache can hold (a prompt longer than max_position_embeddings run in
 * one piece by transformers uses one length's frequencies for all its tokens instead).
 */
export function rotaryCaches(config: DecoderConfig, positions: number): RotaryCaches {
  const dim = config.headDim;
  const half = dim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  const fixed = ropeParameters(config.ropeTheta, dim, config.ropeScaling, config.maxPositionEmbeddings);
  for (let p = 0; p < positions; p++) {
    const { invFreq, attentionFactor } = config.ropeScaling.type === 'dynamic' && p + 1 > config.maxPositionEmbeddings
      ? ropeParameters(config.ropeTheta, dim, config.ropeScaling, config.maxPositionEmbeddings, p + 1)
      : fixed;
    for (let i = 0; i < half; i++) {
      const angle = f(p * invFreq[i]!);
      cos[p * half + i] = f(f(Math.cos(angle)) * attentionFactor);
      sin[p * half + i] = f(f(Math.sin(angle)) * attentionFactor);
    }
  }
  return { cos, sin, positions, halfDim: half };
}
