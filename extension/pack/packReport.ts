/** The pack report as Markdown: totals, the largest files, every skipped file with its reason. Pure, for tests. */
import type { PackResult } from '../../engine/packer';
import { describeDropped, largestFirst } from '../../engine/packer/budget';

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
}

export function formatTokens(tokens: number, budget: number): string {
  return budget > 0 ? `${formatCount(tokens)} / ${formatCount(budget)} tokens` : `${formatCount(tokens)} tokens`;
}

/** Text shown as written: Markdown's active characters backslash-escaped (`__init__.py` is not bold, `|` ends no cell). */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~!&#]/g, '\\$&');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The bundled tokenizer by name (its path is deep in the extension's node_modules); any other by its path. */
function tokenizerLabel(path: string): string {
  return /[\\/]@lenml[\\/]tokenizer-llama3[\\/]/.test(path) ? 'the bundled Llama 3 tokenizer' : path;
}

/**
 * With `folderUri` (the packed folder's URI), file names link to the files. Skipped and dropped files are counted
 * apart; dropped files are counted by kind (the budget drops tests, examples, docs and data before code).
 */
export function packReportMarkdown(folder: string, result: PackResult, budget: number, largest = 50, folderUri?: string): string {
  const link = (path: string): string => folderUri
    ? `[${escapeMarkdown(path)}](${folderUri}/${path.split('/').map(encodeURIComponent).join('/')})`
    : escapeMarkdown(path);
  const dropped = result.dropped.length;
  const lines = [
    `# ProLong pack: ${folder}`,
    '',
    `- **${plural(result.files.length, 'file')}**, ${formatCount(result.totalBytes)} bytes, **${formatTokens(result.totalTokens, budget)}** (exact, ${escapeMarkdown(tokenizerLabel(result.tokenizer))})`,
    `- Order: ${result.order}; packed in ${Math.round(result.ms)} ms (read ${plural(result.filesRead, 'file')}, counted ${result.filesTokenized})`,
    `- Skipped: ${result.skipped.length - dropped}`,
    ...(dropped > 0 ? [`- Dropped to meet the token budget: ${dropped} (${describeDropped(result.dropped)}; tests, examples, fixtures, benchmarks, docs and data go before code, largest first; open files are kept)`] : []),
  ];
  if (result.definitionsIndex) {
    lines.push(`- Definitions index after the last file: ${plural(result.definitionsIndex.names, 'name')}, ${formatCount(result.definitionsIndex.tokens)} tokens (prolong.pack.definitionsIndex, or the local model's own choice where the setting is unset)`);
  }
  if (result.invalidUtf8.length > 0) lines.push(`- Not valid UTF-8 (invalid bytes shown as U+FFFD): ${result.invalidUtf8.map(escapeMarkdown).join(', ')}`);
  lines.push('', `## Largest files`, '', '| tokens | bytes | file |', '|---:|---:|---|');
  for (const file of [...result.files].sort(largestFirst).slice(0, largest)) {
    lines.push(`| ${file.tokens} | ${file.bytes} | ${link(file.path)} |`);
  }
  lines.push('', '## Skipped', '', '| file | reason |', '|---|---|');
  for (const skipped of result.skipped) lines.push(`| ${link(skipped.path)} | ${escapeMarkdown(skipped.reason)} |`);
  lines.push('', 'Change what is packed with `.prolongignore`, the settings prolong.pack.exclude / prolong.pack.include, and prolong.pack.tokenBudget.', '');
  return lines.join('\n');
}
