/**
 * The definitions index: an optional block after the document's last file (so right before a question, and an edit
 * changes the document no earlier than it did without it: edit-aware order keeps its long unchanged prefix), a symbol
 * table with a line per name a file defines, then the file, in the document's file order:
 *
 *   Definitions:
 *   `Packer`: src/a.ts
 *   `pack`: src/a.ts
 *   `parse_args`: src/b.py
 *
 * "Which file defines `X`?" then reads the line of X, the path right after the name as a value follows its key in a
 * RULER needle, instead of the hop from `def X` to the path header a whole file body above it, which small models
 * fail at (training/studies/which_file.py; the demo model, training/README.md). The name is in backticks as a
 * question writes it (its first token after a backtick differs from the one after a space), and the path follows a
 * space, as in its file header (`==> src/...`) and an answer (`... in src/...`).
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

/** Most names the index lists for one file (a generated file can define thousands). */
export const MAX_INDEX_NAMES = 64;

export const INDEX_TITLE = 'Definitions:\n';
/** Ends the index with a blank line, as each file's chunk ends. */
export const INDEX_END = '\n';

/** A file's lines in the index ('' when it defines nothing): each name, then the path as its header writes it. */
export function fileIndexLines(path: string, text: string): string {
  const quoted = quotePath(path);
  return definedNames(text).slice(0, MAX_INDEX_NAMES).map((name) => `\`${name}\`: ${quoted}\n`).join('');
}

/** The whole index block for the files' lines already made ('' when no file defines anything). */
export function indexBlock(lines: readonly string[]): string {
  const body = lines.join('');
  return body === '' ? '' : INDEX_TITLE + body + INDEX_END;
}
