// Worker thread: reads, classifies, hashes and counts files for the packer (engine/packer/workerPool.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { loadTokenizer, type TextTokenizer } from '../tokenizer';
import { contentSkipReason, isBinary } from './classify';
import { fileChunk } from './format';
import { canHaveImports, extractImports } from './order';
import { errorMessage } from '../errors';
import type { FileJob, FileOutcome, PackWorkerData, WorkerReply, WorkerRequest } from './workerProtocol';

const data = workerData as PackWorkerData;
let tokenizer: TextTokenizer | undefined;
let tokenizerError: Error | undefined;
try {
  tokenizer = loadTokenizer(data.tokenizerPath);
} catch (error) {
  tokenizerError = error as Error;
}

function requireTokenizer(): TextTokenizer {
  if (!tokenizer) throw tokenizerError ?? new Error('tokenizer not loaded');
  return tokenizer;
}

function processFile(job: FileJob, wantImports: boolean): FileOutcome {
  let bytes: Buffer;
  try {
    bytes = readFileSync(job.absolute);
  } catch (error) {
    return { path: job.path, kind: 'skipped', reason: `unreadable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  const hash = createHash('sha1').update(bytes).digest('hex');
  if (isBinary(bytes)) return { path: job.path, kind: 'skipped', reason: 'binary', hash };
  const invalidUtf8 = !isUtf8(bytes);
  const text = bytes.toString('utf8'); // invalid sequences become U+FFFD
  if (!job.forced) {
    const reason = contentSkipReason(job.path, text);
    if (reason) return { path: job.path, kind: 'skipped', reason, hash };
  }
  const tokens = job.knownHash === hash && job.knownTokens !== undefined ? job.knownTokens : requireTokenizer().count(fileChunk(job.path, text));
  const outcome: FileOutcome = { path: job.path, kind: 'text', text, hash, tokens, invalidUtf8 };
  if (wantImports && canHaveImports(job.path)) outcome.imports = extractImports(job.path, text);
  return outcome;
}

parentPort!.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = request.type === 'files'
      ? { type: 'files', id: request.id, outcomes: request.jobs.map((job) => processFile(job, request.wantImports)) }
      : request.type === 'count' ? { type: 'count', id: request.id, tokens: requireTokenizer().count(request.text) }
      : { type: 'countEach', id: request.id, tokens: request.texts.map((text) => requireTokenizer().count(text)) };
  } catch (error) {
    reply = { type: 'error', id: request.id, message: errorMessage(error) };
  }
  parentPort!.postMessage(reply);
});
