import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { startWorker } from '../workerScript';
import { CancelledError, UserError } from '../errors';
import type { FileJob, FileOutcome, PackWorkerData, WorkerReply, WorkerRequest } from './workerProtocol';

/** A request before the pool gives it an id. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

/** One worker thread with request ids. A crash fails every request in flight, never hangs. */
class PackWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(data: PackWorkerData) {
    this.worker = startWorker(__dirname, 'pack-worker', 'packWorker.ts', { workerData: data });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      entry.resolve(reply);
    });
    const fail = (error: Error): void => {
      this.failure = error;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`packer worker exited (code ${code})`)));
  }

  /** True once the thread has died (crashed, killed, or terminated): it answers nothing more. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Test hook: kills the thread as a crash would. */
  crashForTest(): Promise<number> {
    return this.worker.terminate();
  }

  request(message: RequestBody): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

function unwrap<T extends WorkerReply['type']>(reply: WorkerReply, type: T): Extract<WorkerReply, { type: T }> {
  if (reply.type === 'error') throw new UserError(reply.message);
  if (reply.type !== type) throw new Error(`packer worker replied ${reply.type} to ${type}`);
  return reply as Extract<WorkerReply, { type: T }>;
}

/** Bytes of file content per batch: big enough to amortise messages, small enough to balance the workers. */
const BATCH_BYTES = 2 << 20;
const BATCH_FILES = 256;

/**
 * Worker threads that read and count files in parallel; the tokenizer loads in each as soon as it starts. A thread
 * that dies fails the requests it had, and is replaced for the next ones.
 */
export class PackWorkerPool {
  private readonly workers: PackWorker[];

  constructor(private readonly tokenizerPath: string, size = Math.max(1, Math.min(availableParallelism(), 8))) {
    this.workers = Array.from({ length: size }, () => new PackWorker({ tokenizerPath }));
  }

  /** Worker `index`, started anew if its thread died. */
  private worker(index: number): PackWorker {
    if (this.workers[index]!.failed) this.workers[index] = new PackWorker({ tokenizerPath: this.tokenizerPath });
    return this.workers[index]!;
  }

  /** Test hook: crashes worker `index` (see PackWorker.crashForTest). */
  crashWorkerForTest(index: number): Promise<number> {
    return this.workers[index]!.crashForTest();
  }

  get size(): number {
    return this.workers.length;
  }

  /** Processes jobs on all workers, calling onOutcomes as batches finish. Outcomes come back in job order. */
  async processFiles(jobs: readonly (FileJob & { size: number })[], wantImports: boolean,
    onBatch: (doneJobs: number) => void, signal?: AbortSignal): Promise<FileOutcome[]> {
    const batches: { start: number; jobs: FileJob[] }[] = [];
    let current: FileJob[] = [];
    let bytes = 0;
    let start = 0;
    jobs.forEach((job, i) => {
      const { size, ...fileJob } = job;
      current.push(fileJob);
      bytes += size;
      if (bytes >= BATCH_BYTES || current.length >= BATCH_FILES) {
        batches.push({ start, jobs: current });
        start = i + 1;
        current = [];
        bytes = 0;
      }
    });
    if (current.length > 0) batches.push({ start, jobs: current });

    const outcomes: FileOutcome[] = new Array(jobs.length);
    let next = 0;
    let done = 0;
    let stopped = false; // one worker failed: the others take no more batches
    const drain = async (index: number): Promise<void> => {
      const worker = this.worker(index);
      while (next < batches.length && !stopped) {
        if (signal?.aborted) throw new CancelledError('pack');
        const batch = batches[next++]!;
        try {
          const reply = unwrap(await worker.request({ type: 'files', jobs: batch.jobs, wantImports }), 'files');
          reply.outcomes.forEach((outcome, i) => { outcomes[batch.start + i] = outcome; });
        } catch (error) {
          stopped = true;
          throw error;
        }
        done += batch.jobs.length;
        onBatch(done);
      }
    };
    await Promise.all(this.workers.map((_, index) => drain(index)));
    return outcomes;
  }

  async count(text: string): Promise<number> {
    return unwrap(await this.worker(0).request({ type: 'count', text }), 'count').tokens;
  }

  /** Tokens of each text, in one message (many short texts: the definitions index's lines). */
  async countEach(texts: string[]): Promise<number[]> {
    if (texts.length === 0) return [];
    return unwrap(await this.worker(0).request({ type: 'countEach', texts }), 'countEach').tokens;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
