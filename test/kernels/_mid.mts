import { writeRandomCheckpoint, randomShapes, convertCheckpoint } from '/work/main/kernels/index';
const shape = { ...randomShapes['llama-3.2-1b'], numLayers: 2, vocabSize: 32000 };
if (process.argv[2] === 'write') writeRandomCheckpoint('/tmp/kt/mid-hf', shape, 1, { dtype: 'BF16' });
else { const t = performance.now(); await convertCheckpoint('/tmp/kt/mid-hf', '/tmp/kt/mid-out', { dtype: process.argv[2] as 'fp16', maxContext: 8192 }); console.log(process.argv[2], (performance.now() - t).toFixed(0), 'ms'); }
