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
