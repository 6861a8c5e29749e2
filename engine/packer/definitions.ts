/**
 * The definitions index: an optional block after the document's header with a line per file that defines something
 * at its top level, naming the file and what it defines, as a repository map does:
 *
 *   Definitions:
 *   - src/a.ts: Packer, pack, PackRequest
 *   - src/b.py: parse_args, main
 *
 * "Which file defines X?" then needs the index line that names X (the path a few tokens before it) instead of the
 * hop from `def X` to the path header a whole file body above it, which small models fail at
 * (training/studies/which_file.py). Each line starts "- " so its path's first token is the one the file's header
 * (`==> src/...`) and an answer (`... in src/...`) give it. Lines follow the document's file order.
 */
import { quotePath } from './format';

/** Definition lines in common languages; group 1 is the name. */
export const DEFINITION_PATTERNS: readonly RegExp[] = [
  /^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|interface|enum)\s+([A-Za-z_$][\w$]*)/,
  /^(?:export\s+)?(?:type|const|let|var)\s+([A-Za-z_$][\w$]*)\s*[=:<]/,
  /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/,
  /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/,
  /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:fn|struct|enum|trait)\s+([A-Za-z_]\w*)/,
];

/** The names `text` defines (DEFINITION_PATTERNS), each once, in the order of their first definition. */
export function definedNames(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    for (const pattern of DEFINITION_PATTERNS) {
      const name = pattern.exec(line)?.[1];
      if (name) names.add(name);
    }
  }
  return [...names];
}

/** Most names an index line lists (a generated file can define thousands; the line stays a summary). */
export const MAX_INDEX_NAMES = 64;

export const INDEX_TITLE = 'Definitions:\n';
/** Ends the index: a blank line before the first file's header. */
export const INDEX_END = '\n';

/** A file's line in the index ('' when it defines nothing): its path as its header writes it, then its names. */
export function indexLine(path: string, text: string): string {
  const names = definedNames(text).slice(0, MAX_INDEX_NAMES);
  return names.length === 0 ? '' : `- ${quotePath(path)}: ${names.join(', ')}\n`;
}

/** The whole index block for lines already made ('' when no file defines anything). */
export function indexBlock(lines: readonly string[]): string {
  const body = lines.join('');
  return body === '' ? '' : INDEX_TITLE + body + INDEX_END;
}
