// convertCheckpoint and `prolong convert`: outputs, sidecar, errors and cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, UserError } from '../../engine/errors';
import { convertCheckpoint, diskProblem } from '../../kernels/convert';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { SafetensorsFile } from '../../kernels/safetensors';
import { readSidecar, sidecarFileName } from '../../kernels/sidecar';

const work = mkdtempSync(join(tmpdir(), 'kernels-convert-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('the sidecar describes the model, its tokenizer and chat template; progress reaches every parameter', async () => {
  const hf = join(work, 'hf');
  writeRandomCheckpoint(hf, { ...randomShapes.tiny, architecture: 'qwen2' }, 3, { eosTokenIds: [2, 5] });
  writeFileSync(join(hf, 'tokenizer.json'), '{"model":{}}');
  writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages[0].content }}' }));
  const stored = new SafetensorsFile(join(hf, 'model.safetensors'));
  const storedElements = [...stored.tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  stored.close();
  const progress: number[] = [];
  const result = await convertCheckpoint(hf, join(work, 'out'), { dtype: 'int4', int4BlockSize: 64, maxContext: 300 }, (p) => {
    progress.push(p.doneParameters);
    assert.equal(p.totalParameters, storedElements);
  });
  assert.equal(progress.at(-1), storedElements);
  assert.equal(result.parameters, storedElements);
  assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
  const sidecar = readSidecar(join(work, 'out'));
  assert.deepEqual(sidecar, JSON.parse(JSON.stringify(result.sidecar)));
  assert.equal(sidecar.model.architecture, 'qwen2');
  assert.equal(sidecar.model.contextLength, 300);
  assert.equal(sidecar.model.intermediateSize, randomShapes.tiny.intermediateSize);
  assert.deepEqual(sidecar.model.eosTokenIds, [2, 5]);
  assert.equal(sidecar.onnx.dtype, 'int4');
  assert.equal(sidecar.onnx.int4BlockSize, 64);
  assert.equal(sidecar.onnx.ioDtype, 'fp32');
  assert.equal(sidecar.tokenizer.chatTemplate, '{{ messages[0].content }}');
  assert.equal(sidecar.tokenizer.file, 'tokenizer.json');
  assert.ok(existsSync(join(work, 'out', 'tokenizer.json')) && existsSync(join(work, 'out', 'model.onnx.data')));
});

test('cancelling mid-way stops with CancelledError and leaves no finished-looking model', async () => {
  const hf = join(work, 'hf-cancel');
  writeRandomCheckpoint(hf, randomShapes.tiny, 4);
  const out = join(work, 'out-cancel');
  const controller = new AbortController();
  await assert.rejects(convertCheckpoint(hf, out, { dtype: 'fp32' }, (p) => { if (p.doneParameters > 20000) controller.abort(); }, controller.signal), CancelledError);
  assert.ok(!existsSync(join(out, sidecarFileName)) && !existsSync(join(out, 'model.onnx')) && !existsSync(join(out, 'model.onnx.data')));
});

test('head sizes the attention kernel cannot run and bad options are UserErrors', async () => {
  const hf = join(work, 'hf-head8');
  writeRandomCheckpoint(hf, { ...randomShapes.tiny, headDim: 8 }, 1);
  await assert.rejects(convertCheckpoint(hf, join(work, 'o8'), { dtype: 'fp32' }), (e: unknown) => e instanceof UserError && e.message.includes('"head_dim"'));
  const ok = join(work, 'hf-ok');
  writeRandomCheckpoint(ok, randomShapes.tiny, 1);
  await assert.rejects(convertCheckpoint(ok, join(work, 'o'), { dtype: 'fp16', ioDtype: 'fp32' }), UserError);
  await assert.rejects(convertCheckpoint(ok, ok, { dtype: 'fp32' }), UserError);
  await assert.rejects(convertCheckpoint(ok, join(work, 'o'), { dtype: 'fp32', ioDtype: 'fp16' }), (e: unknown) => e instanceof UserError && /fp32 weights need fp32 activations/.test(e.message));
});

test('a config.json that does not match its weights is refused, naming the tensor and the config fields', async () => {
  const hf = join(work, 'hf-mismatch');
  writeRandomCheckpoint(hf, randomShapes.tiny, 1);
  const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as Record<string, number>;
  config.num_key_value_heads = config.num_attention_heads; // the weights have fewer KV heads
  writeFileSync(join(hf, 'config.json'), JSON.stringify(config));
  const out = join(work, 'o-mismatch');
  await assert.rejects(convertCheckpoint(hf, out, { dtype: 'int4' }),
    (e: unknown) => e instanceof UserError && /k_proj\.weight has shape \[\d+, \d+\], but config\.json \(num_key_value_heads/.test(e.message));
  assert.ok(!existsSync(join(out, sidecarFileName)), 'nothing that looks like a model was left');
});

test('a malformed generation_config.json is a UserError naming the file', async () => {
  const hf = join(work, 'hf-generation');
  writeRandomCheckpoint(hf, randomShapes.tiny, 1);
  writeFileSync(join(hf, 'generation_config.json'), '{"eos_token_id": 1,');
  await assert.rejects(convertCheckpoint(hf, join(work, 'o-generation'), { dtype: 'fp32' }),
    (e: unknown) => e instanceof UserError && e.message.includes(join(hf, 'generation_config.json')));
});

test('a full disk is said in words, with the space the model needs; other errors pass through', () => {
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const said = diskProblem(full, '/models/out', 1.5e9, 4.2e9, 'the partial files were removed');
  assert.ok(said instanceof UserError);
  assert.match(said.message, /The disk under \/models\/out is full \(ENOSPC\) after 1\.50 GB of the converted model; it needs about 4\.20 GB/);
  assert.match(said.hint ?? '', /\(the partial files were removed\)/);
  const other = new Error('EACCES');
  assert.equal(diskProblem(other, '/models/out', 0, 1, ''), other);
});

const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'convert', ...args], { encoding: 'utf8' });

test('prolong convert --random-shape writes a checkpoint, converts it and reports peak memory', () => {
  const hf = join(work, 'cli-hf');
  const out = join(work, 'cli-out');
  const run = cli(hf, out, '--random-shape', 'tiny', '--dtype', 'fp16', '--max-context', '1k', '--json');
  assert.equal(run.status, 0, run.stderr);
  const summary = JSON.parse(run.stdout) as { peakRssMiB: number; parameters: number; ioDtype: string };
  assert.ok(summary.peakRssMiB > 0);
  assert.equal(summary.ioDtype, 'fp16');
  assert.equal(JSON.parse(readFileSync(join(out, sidecarFileName), 'utf8')).model.contextLength, 1024);
});

test('prolong convert explains bad arguments and unsupported checkpoints', () => {
  const bad = cli(join(work, 'nowhere'), join(work, 'x'), '--dtype', 'int8');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--dtype int8/);
  const dir = join(work, 'gpt2');
  writeRandomCheckpoint(dir, randomShapes.tiny, 1);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['GPT2LMHeadModel'] }));
  const refused = cli(dir, join(work, 'gpt2-out'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /"architectures"/);
  assert.equal(cli(dir).status, 2);
});

test('a conversion failing before it starts (the output cannot be created) closes the checkpoint\'s shards', { skip: !existsSync('/proc/self/fd') }, async () => {
  const hf = join(work, 'fd-hf');
  writeRandomCheckpoint(hf, randomShapes.tiny, 3, { shardBytes: 50_000 });
  const blocker = join(work, 'fd-blocker');
  writeFileSync(blocker, 'a file where the output directory would go');
  const openShards = () => readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).startsWith(hf); } catch { return false; }
  }).length;
  await assert.rejects(convertCheckpoint(hf, join(blocker, 'out'), { dtype: 'fp32' }), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOTDIR');
  assert.equal(openShards(), 0);
});

test('a tiny-llama3 random model answers `prolong ask` end to end: its own tokenizer, a packed repository, a streamed answer; '
  + 'converted --definitions-index, its packs get the index unless --no-definitions-index', () => {
  const hf = join(work, 'hf-tl3');
  const out = join(work, 'tl3');
  const converted = cli(hf, out, '--random-shape', 'tiny-llama3', '--dtype', 'fp32', '--definitions-index');
  assert.equal(converted.status, 0, converted.stderr);
  assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')), 'the model carries its tokenizer and chat template');
  assert.deepEqual(readSidecar(out).pack, { definitionsIndex: true });
  const repo = join(work, 'repo-tl3');
  mkdirSync(repo);
  writeFileSync(join(repo, 'a.ts'), 'export const a = 1;\n');
  const ask = (...flags: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'ask', '--model', out, '--ep', 'cpu', '--dir', repo, '--max-tokens', '3', '--no-cache', ...flags, 'What is a?'],
    { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: work } });
  const plain = ask('--no-definitions-index');
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /^packed 1 files, \d+ tokens$/m);
  assert.match(plain.stderr, /3 tokens in [\d.]+ s — stopped at --max-tokens/);
  const byModel = ask();
  assert.equal(byModel.status, 0, byModel.stderr);
  assert.match(byModel.stderr, /^packed 1 files, \d+ tokens with a definitions index of 1 name \(\d+ tokens; the model was trained with it, --no-definitions-index leaves it out\)$/m);
  const tokens = (run: { stderr: string }) => Number(/^packed 1 files, ([\d,]+) tokens/m.exec(run.stderr)![1]!.replace(/,/g, ''));
  const prompt = (run: { stderr: string }) => Number(/prompt ([\d,]+) tokens/.exec(run.stderr)![1]!.replace(/,/g, ''));
  assert.ok(tokens(byModel) > tokens(plain), `${tokens(byModel)} > ${tokens(plain)}: the index's lines are packed`);
  assert.equal(prompt(byModel) - prompt(plain), tokens(byModel) - tokens(plain), 'and the model reads them');
  for (const flag of ['--definitions-index', '--guard-paths']) {
    const ggufOnly = cli(hf, join(work, 'tl3.gguf'), '--gguf', 'q4_0', flag);
    assert.equal(ggufOnly.status, 1);
    assert.match(ggufOnly.stderr, new RegExp(`${flag} is written into prolong_model\\.json, which a \\.gguf file alone does not have`));
  }
  assert.equal(readSidecar(out).generation?.guardPaths, undefined);
  const guarded = cli(hf, join(work, 'tl3-guarded'), '--dtype', 'fp32', '--guard-paths');
  assert.equal(guarded.status, 0, guarded.stderr);
  assert.equal(readSidecar(join(work, 'tl3-guarded')).generation?.guardPaths, true);
  const contradiction = ask('--definitions-index', '--no-definitions-index');
  assert.equal(contradiction.status, 1);
  assert.match(contradiction.stderr, /--definitions-index and --no-definitions-index contradict each other/);
});

test('a failed conversion into a folder holding a converted model leaves that model as it was, and no hidden sibling', async () => {
  const good = join(work, 'hf-swap-good');
  writeRandomCheckpoint(good, randomShapes.tiny, 7);
  const out = join(work, 'swap', 'model');
  await convertCheckpoint(good, out, { dtype: 'fp32' });
  const before = Object.fromEntries(readdirSync(out).sort().map((name) => [name, readFileSync(join(out, name)).toString('base64')]));
  // a cancelled conversion, then one that fails on a broken shard: both after the output was opened
  const controller = new AbortController();
  await assert.rejects(convertCheckpoint(good, out, { dtype: 'fp16' }, (p) => { if (p.doneParameters > 20000) controller.abort(); }, controller.signal), CancelledError);
  const broken = join(work, 'hf-swap-broken');
  writeRandomCheckpoint(broken, randomShapes.tiny, 8);
  const shard = join(broken, 'model.safetensors');
  writeFileSync(shard, readFileSync(shard).subarray(0, 20000));
  await assert.rejects(convertCheckpoint(broken, out, { dtype: 'fp32' }));
  const after = Object.fromEntries(readdirSync(out).sort().map((name) => [name, readFileSync(join(out, name)).toString('base64')]));
  assert.deepEqual(after, before);
  assert.deepEqual(readdirSync(join(work, 'swap')), ['model']);
  // a finished conversion replaces it
  await convertCheckpoint(good, out, { dtype: 'fp16' });
  assert.equal(readSidecar(out).onnx.dtype, 'fp16');
  assert.deepEqual(readdirSync(join(work, 'swap')), ['model']);
});

test('prolong convert into a file path refuses in one line, and leaves the file alone', () => {
  const hf = join(work, 'hf-file-out');
  writeRandomCheckpoint(hf, randomShapes.tiny, 9);
  const file = join(work, 'not-a-folder.txt');
  writeFileSync(file, 'keep me');
  const run = cli(hf, file);
  assert.equal(run.status, 1);
  assert.equal(run.stderr, `prolong: ${file} is a file, not a folder. Give OUT_DIR as a new or empty folder, or one holding a converted model.\n`);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
});
