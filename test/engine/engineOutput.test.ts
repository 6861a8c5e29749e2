import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forwardEngineOutput, isEngineNoise, removeOnnxruntimeDebugLog } from '../../engine/runtime/engineOutput';

// As Dawn prints them on every WebGPU start (captured from `prolong ask --ep webgpu` on Mesa's lavapipe).
const dawn = [
  'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n',
  'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n',
];

async function forwarded(chunks: string[], verbose = false): Promise<string> {
  const from = new PassThrough();
  const to = new PassThrough();
  let out = '';
  to.setEncoding('utf8').on('data', (d: string) => { out += d; });
  forwardEngineOutput(from, to, verbose);
  for (const chunk of chunks) from.write(chunk);
  from.end();
  await new Promise((resolve) => from.on('end', resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return out;
}

test("Dawn's notes on its own limits are left out of the engine's output; everything else passes, split anywhere", async () => {
  for (const line of dawn) assert.ok(isEngineNoise(line));
  const kept = ['2026-12-03 17:40:01.1 [W:onnxruntime:, session_state.cc:1280] Some nodes were not assigned to the preferred execution providers\n',
    'Warning: the adapter lost its device\n', 'prolong engine: could not save the prefix cache: ENOSPC\n'];
  for (const line of kept) assert.ok(!isEngineNoise(line), line);
  const all = [kept[0]!, ...dawn, kept[1]!, kept[2]!.slice(0, -1)].join('');
  // split into odd pieces: lines cut across chunks are still whole when judged
  const pieces = all.match(/[\s\S]{1,7}/g)!;
  assert.equal(await forwarded(pieces), kept.join('').slice(0, -1));
  assert.equal(await forwarded(pieces, true), all, 'verbose: every line');
});

test("onnxruntime's empty mat-debug-<pid>.log of an ended engine process is removed; one with content stays", () => {
  const empty = join(tmpdir(), 'mat-debug-999999991.log');
  const full = join(tmpdir(), 'mat-debug-999999992.log');
  writeFileSync(empty, '');
  writeFileSync(full, 'a log line\n');
  try {
    removeOnnxruntimeDebugLog(999999991);
    removeOnnxruntimeDebugLog(999999992);
    removeOnnxruntimeDebugLog(undefined);
    assert.ok(!existsSync(empty));
    assert.ok(existsSync(full));
  } finally {
    rmSync(full, { force: true });
    rmSync(empty, { force: true });
  }
});
