/** Messages between the packer and its worker threads (reading, classifying, hashing and counting files). */

export interface FileJob {
  path: string;
  absolute: string;
  /** Hash and chunk token count from an earlier pack: when the content hash matches, the file is not re-counted. */
  knownHash?: string;
  knownTokens?: number;
  /** The user's include patterns force this file past the content heuristics (not the binary check). */
  forced: boolean;
}

export type FileOutcome =
  | { path: string; kind: 'text'; text: string; hash: string; tokens: number; invalidUtf8: boolean; imports?: string[] }
  | { path: string; kind: 'skipped'; reason: string; hash?: string };

export type WorkerRequest =
  | { type: 'files'; id: number; jobs: FileJob[]; wantImports: boolean }
  | { type: 'count'; id: number; text: string }
  | { type: 'countEach'; id: number; texts: string[] };

export type WorkerReply =
  | { type: 'files'; id: number; outcomes: FileOutcome[] }
  | { type: 'count'; id: number; tokens: number }
  | { type: 'countEach'; id: number; tokens: number[] }
  | { type: 'error'; id: number; message: string };

/** Given to each worker at start, so it loads the tokenizer while the main thread walks the tree. */
export interface PackWorkerData {
  tokenizerPath: string;
}
