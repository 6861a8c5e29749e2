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
 * Each file's chunk ends with a newline and a blank line, and the next chunk starts with '=': byte-level BPE
 * pre-tokenizers (Llama 3's, GPT-2's) never put a newline and a following '=' in one piece, so the document's
 * token count is exactly the header's plus the sum of the chunks' counts. The same holds at the header's end.
 */

export const FILE_HEADER_OPEN = '==> ';
export const FILE_HEADER_CLOSE = ' <==';

export function documentHeader(repositoryName: string, fileCount: number): string {
  return `Repository: ${repositoryName}\nFiles: ${fileCount}\n\n`;
}

export function fileChunk(path: string, text: string): string {
  const body = text === '' || text.endsWith('\n') ? text : text + '\n';
  return `${FILE_HEADER_OPEN}${path}${FILE_HEADER_CLOSE}\n${body}\n`;
}

export interface FileSpan {
  path: string;
  /** Character offset of the file's first content character in the document. */
  start: number;
  /** Character offset just past its content (before the blank separator line). */
  end: number;
  /** 1-based line number of the first content line in the document. */
  firstLine: number;
}

/**
 * Where each file's content sits in a packed document, for turning a position the model cites into a file and
 * line. Only header lines at the start of a chunk count (a file's own text may contain '==> x <==').
 */
export function locateFiles(document: string, paths: readonly string[]): FileSpan[] {
  const spans: FileSpan[] = [];
  let offset = document.indexOf('\n\n') + 2;
  let line = document.slice(0, offset).split('\n').length;
  for (const path of paths) {
    const header = `${FILE_HEADER_OPEN}${path}${FILE_HEADER_CLOSE}\n`;
    if (!document.startsWith(header, offset)) throw new Error(`packed document: expected the header of ${path} at offset ${offset}`);
    const start = offset + header.length;
    const next = nextChunkStart(document, start, paths.length === spans.length + 1 ? undefined : paths[spans.length + 1]);
    spans.push({ path, start, end: next - 1, firstLine: line + 1 });
    line += document.slice(offset, next).split('\n').length - 1;
    offset = next;
  }
  return spans;
}

function nextChunkStart(document: string, from: number, nextPath: string | undefined): number {
  if (nextPath === undefined) return document.length;
  const marker = `\n\n${FILE_HEADER_OPEN}${nextPath}${FILE_HEADER_CLOSE}\n`;
  const at = document.indexOf(marker, from - 1);
  if (at === -1) throw new Error(`packed document: no header for ${nextPath}`);
  return at + 2;
}

/**
 * Each packed file's text as the document holds it (ending with a newline), read from the pack's chunks: chunk i+1
 * is file i's (the header is chunk 0), so nothing is searched for and no document is joined.
 */
export function packedFileTexts(result: { chunks: readonly string[]; files: readonly { path: string }[] }): { path: string; text: string }[] {
  return result.files.map((file, i) => {
    const chunk = result.chunks[i + 1]!;
    const header = `${FILE_HEADER_OPEN}${file.path}${FILE_HEADER_CLOSE}\n`;
    if (!chunk.startsWith(header)) throw new Error(`packed chunk ${i + 1} is not ${file.path}'s`);
    return { path: file.path, text: chunk.slice(header.length, -1) };
  });
}
