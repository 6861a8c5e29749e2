import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REFERENCE_CURVES, rulerEffectiveLength } from '../../engine/probes/effectiveLength';
import { curveChartModel, curveChartSvg, describeChart } from '../../webview/probes/chart';
import { checkBalanced } from './fixtures';

const K = 1024;
const measured = rulerEffectiveLength([
  { task: 'niah_single_1', length: 4 * K, samples: 1, score: 96 },
  { task: 'niah_single_1', length: 16 * K, samples: 1, score: 88 },
  { task: 'niah_single_1', length: 64 * K, samples: 1, score: 40 },
  { task: 'niah_single_1', length: 512 * K, samples: 1, score: 10 },
], 85.6);

function points(svg: string, cls: string): { x: number; y: number }[] {
  return [...svg.matchAll(new RegExp(`<circle class="[^"]*\\b${cls}\\b[^"]*" cx="([\\d.]+)" cy="([\\d.]+)"`, 'g'))].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

test('the curve is drawn on a log2 length axis with 0-100 scores; references are dashed series', () => {
  const model = curveChartModel(measured, REFERENCE_CURVES, 'my <model>');
  assert.equal(model.minLength, 4 * K);
  assert.equal(model.maxLength, 512 * K);
  assert.equal(model.effectiveLength, 16 * K);
  const svg = curveChartSvg(model, 'c1');
  checkBalanced(svg);
  const ours = points(svg, 'measured');
  assert.equal(ours.length, 4);
  // Equal ratios of length give equal steps on the axis: 4K->16K and 16K->64K are both x4.
  assert.ok(Math.abs((ours[1]!.x - ours[0]!.x) - (ours[2]!.x - ours[1]!.x)) < 0.2);
  // Higher scores sit higher (smaller y), and 96 vs 10 spans most of the plot.
  assert.ok(ours[0]!.y < ours[1]!.y && ours[1]!.y < ours[2]!.y && ours[2]!.y < ours[3]!.y);
  const references = points(svg, 'reference');
  assert.equal(references.length, REFERENCE_CURVES.reduce((n, c) => n + c.scores.length, 0));
  // ProLong's published 4K score (94.5) is drawn just below our 96 at the same x.
  assert.equal(references[0]!.x, ours[0]!.x);
  assert.ok(references[0]!.y > ours[0]!.y);
  // Threshold line at 85.6, and the effective-length marker at 16K.
  const threshold = /<line class="threshold" x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"/.exec(svg);
  assert.ok(threshold && Number(threshold[1]) > ours[0]!.y && Number(threshold[1]) < ours[2]!.y);
  const effective = /<line class="effective" x1="([\d.]+)"/.exec(svg);
  assert.equal(Number(effective![1]), ours[1]!.x);
  assert.match(svg, />effective 16K</);
});

test('the chart is accessible and CSP-safe: role, title and desc with the numbers, escaped labels, nothing external or scripted', () => {
  const svg = curveChartSvg(curveChartModel(measured, REFERENCE_CURVES, 'my <model> & "co"'), 'c2');
  assert.match(svg, /^<svg [^>]*role="img" aria-labelledby="c2-title c2-desc"/);
  const desc = /<desc id="c2-desc">([^<]*)<\/desc>/.exec(svg)![1]!;
  assert.match(desc, /my &lt;model&gt; &amp; &quot;co&quot;: 4K 96\.0, 16K 88\.0, 64K 40\.0, 512K 10\.0; effective length 16K\./);
  assert.match(desc, /ProLong-8B-512k-Instruct: 4K 94\.5, .*128K 81\.6; effective length 32K\./);
  assert.doesNotMatch(svg, /<script|<style|href=|url\(|on\w+=/i);
  const tags = new Set(checkBalanced(svg));
  assert.deepEqual([...tags].sort(), ['circle', 'desc', 'line', 'path', 'svg', 'text', 'title']);
});

test('references get their effective length at the panel threshold; an empty run still draws the references', () => {
  const model = curveChartModel(rulerEffectiveLength([], 80), REFERENCE_CURVES);
  assert.equal(model.series[0]!.points.length, 0);
  assert.equal(model.effectiveLength, null);
  assert.equal(model.series.find((s) => s.label === 'Llama-3.1-8B-Instruct')!.effectiveLength, 64 * K, 'at 80 Llama-3.1 holds to 64K (84.7)');
  assert.match(describeChart(model), /^This model: no scores yet\. /);
  const svg = curveChartSvg(model);
  checkBalanced(svg);
  assert.doesNotMatch(svg, /class="effective"/);
  assert.equal(points(svg, 'measured').length, 0);
});

test('saved runs are drawn as their own series between the references and this run, and named in the legend', () => {
  const saved = rulerEffectiveLength([
    { task: 'vt', length: 4 * K, samples: 1, score: 90 },
    { task: 'vt', length: 16 * K, samples: 1, score: 80 },
  ], 85.6);
  const model = curveChartModel(measured, REFERENCE_CURVES, 'now', [{ label: 'int4 · 2026-11-01', ruler: saved }]);
  assert.deepEqual(model.series.map((s) => s.kind), ['measured', 'comparison', 'reference', 'reference']);
  const svg = curveChartSvg(model, 'c3');
  checkBalanced(svg);
  assert.equal(points(svg, 'comparison').length, 2);
  assert.match(svg, />int4 · 2026-11-01 \(saved run\) · effective 4K</);
  // Layering: every reference point comes before the saved run's, and this run's come last.
  const order = [...svg.matchAll(/<circle class="series series-\d (\w+)"/g)].map((m) => m[1]);
  assert.equal(order.lastIndexOf('reference') < order.indexOf('comparison') && order.lastIndexOf('comparison') < order.indexOf('measured'), true);
  // Colors: the references keep theirs whether or not saved runs are drawn.
  const referenceColors = (markup: string) => [...markup.matchAll(/<line class="series (series-\d) reference"/g)].map((m) => m[1]);
  const alone = curveChartSvg(curveChartModel(measured, REFERENCE_CURVES, 'now', []), 'c4');
  assert.deepEqual(referenceColors(svg), referenceColors(alone));
  assert.equal(new Set([...svg.matchAll(/<line class="series (series-\d) /g)].map((m) => m[1])).size, model.series.length, 'every series has a color of its own');
});

test('every series has an opaque color in every theme kind and a dash pattern of its own (bug: the reference was invisible in HC)', async () => {
  const { PROBES_CSS } = await import('../../webview/probes/styles');
  const dashes = new Set<string>();
  for (let slot = 0; slot < 7; slot++) {
    assert.match(PROBES_CSS, new RegExp(`svg \\.series-${slot} \\{ --series-color: #[0-9a-f]{6};`), `series-${slot} has an opaque color`);
    for (const kind of ['body.vscode-high-contrast:not(.vscode-high-contrast-light)', 'body.vscode-high-contrast-light', 'body.vscode-light']) {
      assert.ok(PROBES_CSS.includes(`${kind} svg .series-${slot} { --series-color: `), `${kind} series-${slot}`);
    }
    const dash = new RegExp(`svg path\\.series-${slot}, svg line\\.series-${slot} \\{ stroke-dasharray: ([^;]+);`).exec(PROBES_CSS);
    assert.ok(dash, `series-${slot} has a dash pattern`);
    dashes.add(dash[1]!);
  }
  assert.equal(dashes.size, 7, 'no two series share a dash pattern');
  // literal colors: an unset (High Contrast) or translucent (Light Modern) theme chart color cannot blank them
  assert.doesNotMatch(PROBES_CSS, /--series-color: var\(/);
});
