/**
 * Checks that a checkpoint written by training/model.py reads the same through the converter's reference forward
 * pass (which the ONNX graph is tested against) as in PyTorch: the largest difference of the last logits, relative
 * to their spread. Exits 1 over the tolerance.
 *
 *   node out/training-check.js HF_DIR     (HF_DIR holds export_check.json written by training/train.py)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReferenceModel } from '../../kernels/referenceForward';

const hfDir = process.argv[2];
if (!hfDir) { process.stderr.write('usage: training-check HF_DIR\n'); process.exit(2); }
const expected = JSON.parse(readFileSync(join(hfDir, 'export_check.json'), 'utf8')) as { ids: number[]; lastLogits: number[][] };
const logits = ReferenceModel.load(hfDir).logits(expected.ids);
let worst = 0;
let spread = 0;
expected.lastLogits.forEach((row, k) => {
  const ours = logits[logits.length - expected.lastLogits.length + k]!;
  row.forEach((value, v) => {
    worst = Math.max(worst, Math.abs(value - ours[v]!));
    spread = Math.max(spread, Math.abs(value));
  });
});
const relative = worst / Math.max(spread, 1e-9);
process.stdout.write(`export check ${hfDir}: largest logit difference ${worst.toExponential(2)} (${relative.toExponential(2)} of the largest logit)\n`);
process.exit(relative < 1e-3 ? 0 : 1);
