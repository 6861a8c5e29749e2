// Small random models converted by kernels/, written once per test process into a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTokenizerPath } from '../../engine/tokenizer';
import { convertCheckpoint, randomShapes, writeRandomCheckpoint, type RandomCheckpointShape, type WeightDtype } from '../../kernels';

const root = mkdtempSync(join(tmpdir(), 'prolong-engine-test-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const built = new Map<string, Promise<string>>();

export interface TinyModelOptions {
  dtype?: WeightDtype;
  /** Shape overrides on top of kernels' `tiny` shape. */
  shape?: Partial<RandomCheckpointShape>;
  maxContext?: number;
  seed?: number;
  eosTokenIds?: number[];
  /** Copy the bundled Llama 3 tokenizer (and its chat template) into the model (needs the Llama 3 vocabulary size). */
  withTokenizer?: boolean;
  /** The sidecar asks the engine to keep answers' paths to the packed files' (`prolong convert --guard-paths`). */
  guardPaths?: boolean;
}

/** A converted random model; the same options give the same directory within one process. */
export function tinyModel(options: TinyModelOptions = {}): Promise<string> {
  const key = JSON.stringify(options);
  let dir = built.get(key);
  if (!dir) {
    dir = (async () => {
      const name = `m${built.size}`;
      const hf = join(root, `${name}-hf`);
      const out = join(root, name);
      const shape = { ...randomShapes.tiny, ...options.shape } as RandomCheckpointShape;
      writeRandomCheckpoint(hf, shape, options.seed ?? 7, {
        eosTokenIds: options.eosTokenIds ?? [shape.vocabSize - 1],
        tokenizerJson: options.withTokenizer ? resolveTokenizerPath() : undefined,
      });
      await convertCheckpoint(hf, out, { dtype: options.dtype ?? 'fp32', maxContext: options.maxContext ?? 512, guardPaths: options.guardPaths });
      return out;
    })();
    built.set(key, dir);
  }
  return dir;
}

/** The checkpoint directory a tiny model was converted from (for the reference forward pass). */
export function checkpointDirOf(modelDir: string): string {
  return `${modelDir}-hf`;
}
