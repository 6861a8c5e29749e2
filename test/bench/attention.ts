// Decode attention written with standard ONNX ops (MatMul, Softmax), the alternative to GroupQueryAttention's decode
// kernels: it reads each layer's keys and values once per KV head (the query heads of a group are the rows of one
// MatMul), where onnxruntime's WebGPU decode kernel reads them once per query head. Prints the time of one decode
// step's attention for every layer of a Llama-3.2-1B-shaped model (16 layers, 8 KV heads x 4 query heads, head 64,
// fp16), the cache already on the GPU, to compare with the attention kernels' time in BENCHMARKS.md's profile.
//   npm run bench:attention -- --contexts 4096,32768 [--ep webgpu|cpu]   (--help for details)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DataType, OnnxModelWriter } from '../../kernels/onnxWriter';
import { BenchCli } from './cli';

const bench = new BenchCli('bench-attention', `usage: npm run bench:attention -- [--contexts LIST] [--ep webgpu|cpu]
Times one decode step's MatMul/Softmax/MatMul attention over 16 Llama-3.2-1B-shaped layers (fp16, cache on the device).
  --contexts LIST   context lengths, comma-separated (default 4096,32768)
  --ep webgpu|cpu   execution provider (default webgpu)
`);
const { values: options } = bench.parse({ options: { contexts: { type: 'string', default: '4096,32768' }, ep: { type: 'string', default: 'webgpu' } } });
const contexts = options.contexts.split(',').map((item) => bench.number('--contexts', item.trim()));
const ep = bench.oneOf('--ep', options.ep, ['webgpu', 'cpu']);

const layers = 16, kvHeads = 8, group = 4, headDim = 64;
const work = mkdtempSync(join(tmpdir(), 'bench-attention-'));

function build(name: string, write: (writer: OnnxModelWriter) => void): Uint8Array {
  const writer = new OnnxModelWriter(join(work, `${name}.onnx.data`));
  write(writer);
  writer.finish(join(work, `${name}.onnx`), name);
  return readFileSync(join(work, `${name}.onnx`));
}

/**
 * `keysTransposed`: keys stored [kvHeads, headDim, context], so scores = q [kvHeads, group, headDim] x K; otherwise
 * [kvHeads, context, headDim], scores = K x q^T, transposed for the softmax.
 */
function attentionModel(keysTransposed: boolean, context: number): Uint8Array {
  const keyDims = keysTransposed ? [kvHeads, headDim, context] : [kvHeads, context, headDim];
  return build(`attention-${keysTransposed ? 'kt' : 'k'}`, (w) => {
    w.input('q', DataType.FLOAT16, keysTransposed ? [kvHeads, group, headDim] : [kvHeads, headDim, group]);
    let sum = '';
    for (let l = 0; l < layers; l++) {
      w.input(`k${l}`, DataType.FLOAT16, keyDims);
      w.input(`v${l}`, DataType.FLOAT16, [kvHeads, context, headDim]);
      const [scores] = keysTransposed
        ? w.node('MatMul', ['q', `k${l}`], [`scores${l}`])
        : w.node('Transpose', w.node('MatMul', [`k${l}`, 'q'], [`scoresT${l}`]), [`scores${l}`], { perm: [0, 2, 1] });
      const [probabilities] = w.node('Softmax', [scores!], [`p${l}`], { axis: -1 });
      const [out] = w.node('MatMul', [probabilities!, `v${l}`], [`out${l}`]);
      sum = sum ? w.node('Add', [sum, out!], [`sum${l}`])[0]! : out!;
    }
    w.node('Identity', [sum], ['y']);
    w.output('y', DataType.FLOAT16, [kvHeads, group, headDim]);
  });
}

/** `count` fp16 tensors of `dims` made on the device (Expand of one value; optimizations off so none are merged). */
async function deviceTensors(provider: ort.InferenceSession.ExecutionProviderConfig, dims: number[], count: number): Promise<ort.Tensor[]> {
  const model = build('fill', (w) => {
    w.input('x', DataType.FLOAT16, [1, 1, 1]);
    w.input('shape', DataType.INT64, [3]);
    for (let i = 0; i < count; i++) { w.node('Expand', ['x', 'shape'], [`o${i}`]); w.output(`o${i}`, DataType.FLOAT16, ['a', 'b', 'c']); }
  });
  const onDevice = provider !== 'cpu';
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [provider], graphOptimizationLevel: 'disabled',
    ...(onDevice ? { preferredOutputLocation: Object.fromEntries(Array.from({ length: count }, (_, i) => [`o${i}`, 'gpu-buffer' as const])) } : {}),
  });
  const outputs = await session.run({
    x: new ort.Tensor('float16', Uint16Array.from([0x2c00]), [1, 1, 1]),
    shape: new ort.Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [3]),
  });
  return Array.from({ length: count }, (_, i) => outputs[`o${i}`] as ort.Tensor);
}

async function main(): Promise<void> {
  const provider: ort.InferenceSession.ExecutionProviderConfig = ep === 'cpu' ? 'cpu' : { name: 'webgpu' };
  for (const context of contexts) {
    for (const keysTransposed of [true, false]) {
      const keys = await deviceTensors(provider, keysTransposed ? [kvHeads, headDim, context] : [kvHeads, context, headDim], layers);
      const values = await deviceTensors(provider, [kvHeads, context, headDim], layers);
      const session = await ort.InferenceSession.create(attentionModel(keysTransposed, context), { executionProviders: [provider], graphOptimizationLevel: 'all' });
      const feeds: Record<string, ort.Tensor> = {
        q: new ort.Tensor('float16', new Uint16Array(kvHeads * group * headDim).fill(0x3c00), keysTransposed ? [kvHeads, group, headDim] : [kvHeads, headDim, group]),
      };
      keys.forEach((tensor, l) => { feeds[`k${l}`] = tensor; });
      values.forEach((tensor, l) => { feeds[`v${l}`] = tensor; });
      for (let i = 0; i < 3; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < 20; i++) { const start = performance.now(); await session.run(feeds); times.push(performance.now() - start); }
      times.sort((a, b) => a - b);
      const gib = (2 * layers * kvHeads * context * headDim * 2) / 2 ** 30;
      console.log(`${ep}, context ${context}, keys ${keysTransposed ? '[heads, dim, context]' : '[heads, context, dim]'}: ` +
        `${times[10]!.toFixed(2)} ms median (min ${times[0]!.toFixed(2)}) for ${layers} layers, ${gib.toFixed(2)} GiB of keys and values`);
      await session.release();
      for (const tensor of [...keys, ...values]) tensor.dispose();
    }
  }
}

main().catch((error: unknown) => { console.error(error); process.exitCode = 1; }).finally(() => rmSync(work, { recursive: true, force: true }));
