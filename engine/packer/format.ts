/**
 * The packed document's format: a short header, then every file under a one-line path header.
 *
 *   Repository: NAME
 *   Files: N
 *
 *   ==> src/a.ts <==
 *   ...content...
 *
 *   ==> src/b.ts <==
 *
 * A path with a control character, '"' or '\\' is quoted as git quotes it (quotePath below).
 *
 * Each file's chunk ends with a newline and a blank line, and the next chunk starts with '=': byte-level BPE
 * pre-tokenizers (Llama 3's, GPT-2's) never put a newline and a following '=' in one piece, so the document's
 * token count is exactly the header's plus the sum of the chunks' counts. The same holds at the header's end.
 */

export const FILE_HEADER_OPEN = '==> ';
export const FILE_HEADER_CLOSE = ' <==';

export function documentHeader(repositoryName: string, fileCount: number): string {
  return `Repository: ${repositoryName}\nFiles: ${fileCount}\n\n`;
}

/** Control characters, '"' and '\\': a path holding any of them is quoted in its header. */
const NEEDS_QUOTING = /[\u0000-\u001f"\\\u007f]/;
const C_ESCAPES: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' };

/**
 * A path as its header shows it: as is, or, when it holds a control character (a newline would write a line that
 * looks like another file's header), '"' or '\\', quoted C-style as git quotes names (`"x <==\n==> y.txt"`; other
 * control characters as octal `\033`). Non-ASCII characters stay as they are (git's core.quotePath=false).
 */
export function quotePath(path: string): string {
  if (!NEEDS_QUOTING.test(path)) return path;
  let quoted = '"';
  for (const char of path) {
    const code = char.charCodeAt(0);
    quoted += C_ESCAPES[char] ?? (code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, '0')}` : char);
  }
  return quoted + '"';
}

/** The line above a file's text: `==> PATH <==` and a newline, the path quoted when it must be. */
export function fileHeaderLine(path: string): string {
  return `${FILE_HEADER_OPEN}${quotePath(path)}${FILE_HEADER_CLOSE}\n`;
}

/** A file header where the document's format puts one: at the start, or after a blank line. */
const HEADER_LINE = /(?<=^|\n\n)==> ([^\n]+) <==\n/g;

/**
 * The paths of a packed document's files, read from its header lines, in order; quoted ones are left out (an answer
 * does not write them as they are). A file whose text has a header-like line after a blank line adds its path too.
 */
export function documentPaths(document: string): string[] {
  const paths: string[] = [];
  for (const match of document.matchAll(HEADER_LINE)) if (!match[1]!.startsWith('"')) paths.push(match[1]!);
  return paths;
}

export function fileChunk(path: string, text: string): string {
  const body = text === '' || text.endsWith('\n') ? text : text + '\n';
  return `${fileHeaderLine(path)}${body}\n`;
}

/**
 * Each packed file's text as the document holds it (ending with a newline), read from the pack's chunks: chunk i+1
 * is file i's (the header is chunk 0), so nothing is searched for and no document is joined.
 */
export function packedFileTexts(result: { chunks: readonly string[]; files: readonly { path: string }[] }): { path: string; text: string }[] {
  return result.files.map((file, i) => {
    const chunk = result.chunks[i + 1]!;
    const header = fileHeaderLine(file.path);
    if (!chunk.startsWith(header)) throw new Error(`packed chunk ${i + 1} is not ${file.path}'s`);
    return { path: file.path, text: chunk.slice(header.length, -1) };
  });
}
