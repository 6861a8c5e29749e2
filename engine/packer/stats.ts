/** The pack report as plain data (the same fields `prolong pack --json` prints), for tools and other programs. */
import type { PackResult } from './packer';

export interface PackStats {
  files: { path: string; bytes: number; tokens: number }[];
  skipped: { path: string; reason: string }[];
  totalTokens: number;
  totalBytes: number;
  ms: number;
  order: string;
  tokenizer: string;
  invalidUtf8: string[];
  /** The files left out to meet the budget, with what they would have taken. */
  dropped: { path: string; bytes: number; tokens: number; kind: string }[];
  /** The definitions index after the last file, when there is one: its names (a line each) and tokens. */
  definitionsIndex?: { names: number; tokens: number };
}

export function packStats(result: PackResult): PackStats {
  return {
    files: result.files.map((f) => ({ path: f.path, bytes: f.bytes, tokens: f.tokens })),
    skipped: result.skipped.map((s) => ({ path: s.path, reason: s.reason })),
    totalTokens: result.totalTokens,
    totalBytes: result.totalBytes,
    ms: Math.round(result.ms),
    order: result.order,
    tokenizer: result.tokenizer,
    invalidUtf8: [...result.invalidUtf8],
    dropped: result.dropped.map((f) => ({ path: f.path, bytes: f.bytes, tokens: f.tokens, kind: f.kind })),
    ...(result.definitionsIndex ? { definitionsIndex: { ...result.definitionsIndex } } : {}),
  };
}
