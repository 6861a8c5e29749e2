/**
 * A small, safe Markdown renderer for answers: paragraphs, headings, fenced code blocks (an unclosed fence while
 * the answer streams runs to the end), inline code, bold, italics, lists (nested by indentation), quotes and
 * tables.
 * Every character of model text is escaped; the only markup is what this module writes. Links to URLs are shown
 * as their text (an answer cannot send the user anywhere); paths of packed files become citation links.
 */
import { escapeHtml } from '../shared/escape';
import { linkCitations, wholeCitation, type CitationTarget, type PathIndex } from './citations';
import { highlightCode } from './highlight';


export function renderMarkdown(markdown: string, paths: PathIndex): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flushParagraph = () => {
    if (paragraph.length > 0) out.push(`<p>${renderInline(paragraph.join('\n'), paths)}</p>`);
    paragraph = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/.exec(line);
    if (fence) {
      flushParagraph();
      const marker = fence[1]!;
      const body: string[] = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`).test(lines[i]!)) body.push(lines[i++]!);
      i++; // the closing fence (or past the end while streaming)
      const language = fence[2] ? ` data-language="${escapeHtml(fence[2])}"` : '';
      out.push(`<pre${language}><code>${highlightCode(body.join('\n'), fence[2] || undefined)}</code></pre>`);
      continue;
    }
    if (line.trim() === '') {
      flushParagraph();
      i++;
      continue;
    }
    const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flushParagraph();
      const level = Math.min(6, heading[1]!.length + 2); // h3..h6: headings in a side panel stay small
      out.push(`<h${level}>${renderInline(heading[2]!, paths)}</h${level}>`);
      i++;
      continue;
    }
    if (listItem(line)) {
      flushParagraph();
      const start = i;
      while (i < lines.length && (listItem(lines[i]!) || (lines[i]!.trim() !== '' && /^\s+/.test(lines[i]!))
        || (lines[i]!.trim() === '' && i + 1 < lines.length && (listItem(lines[i + 1]!) || /^\s{2,}\S/.test(lines[i + 1]!))))) i++;
      out.push(renderList(lines.slice(start, i), paths));
      continue;
    }
    if (isTableRow(line) && i + 1 < lines.length && TABLE_DIVIDER.test(lines[i + 1]!)) {
      flushParagraph();
      const header = tableCells(line);
      const alignments = tableCells(lines[i + 1]!).map((cell) => (/^:-+:$/.test(cell) ? 'center' : /-:$/.test(cell) ? 'right' : undefined));
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && isTableRow(lines[i]!)) rows.push(tableCells(lines[i++]!));
      const cell = (tag: string, text: string, column: number) => {
        const align = alignments[column] ? ` style="text-align:${alignments[column]}"` : '';
        return `<${tag}${align}>${renderInline(text, paths)}</${tag}>`;
      };
      const head = `<tr>${header.map((text, column) => cell('th', text, column)).join('')}</tr>`;
      const body = rows.map((row) => `<tr>${header.map((_, column) => cell('td', row[column] ?? '', column)).join('')}</tr>`).join('');
      out.push(`<table><thead>${head}</thead><tbody>${body}</tbody></table>`);
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      flushParagraph();
      const quoted: string[] = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i]!)) quoted.push(lines[i++]!.replace(/^ {0,3}> ?/, ''));
      out.push(`<blockquote>${renderMarkdown(quoted.join('\n'), paths)}</blockquote>`);
      continue;
    }
    paragraph.push(line.trim());
    i++;
  }
  flushParagraph();
  return out.join('\n');
}

const TABLE_DIVIDER = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function isTableRow(line: string): boolean {
  return /^\s*\|.*\|\s*$/.test(line);
}

/** A table row's cells, split at pipes that are not escaped (`\|`) and not inside a code span. */
function tableCells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let current = '';
  let inCode = false;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && inner[i + 1] === '|') { current += '|'; i++; continue; }
    if (c === '`') inCode = !inCode;
    if (c === '|' && !inCode) { cells.push(current.trim()); current = ''; continue; }
    current += c;
  }
  cells.push(current.trim());
  return cells;
}

interface ListItemLine {
  indent: number;
  ordered: boolean;
  number: number;
  text: string;
}

function listItem(line: string): ListItemLine | undefined {
  const match = /^(\s*)([-*+]|(\d{1,9})[.)])\s+(.*)$/.exec(line);
  if (!match) return undefined;
  return { indent: match[1]!.replace(/\t/g, '    ').length, ordered: match[3] !== undefined, number: Number(match[3] ?? 1), text: match[4]! };
}

interface ListNode {
  ordered: boolean;
  start: number;
  indent: number;
  items: { lines: string[]; children: ListNode[] }[];
}

/** Lists nest by indentation: an item indented deeper than its list's items opens a list inside the last item. */
function renderList(lines: string[], paths: PathIndex): string {
  const roots: ListNode[] = [];
  const stack: ListNode[] = [];
  for (const line of lines) {
    const item = listItem(line);
    if (!item) {
      const current = stack.at(-1)?.items.at(-1);
      if (current && line.trim() !== '') current.lines.push(line.trim());
      continue;
    }
    while (stack.length > 0 && item.indent < stack.at(-1)!.indent) stack.pop();
    let list = stack.at(-1);
    if (list && item.indent > list.indent && list.items.length > 0) {
      const nested: ListNode = { ordered: item.ordered, start: item.number, indent: item.indent, items: [] };
      list.items.at(-1)!.children.push(nested);
      stack.push(nested);
      list = nested;
    } else if (!list || list.ordered !== item.ordered) {
      if (list) stack.pop();
      const fresh: ListNode = { ordered: item.ordered, start: item.number, indent: item.indent, items: [] };
      const parent = stack.at(-1);
      if (parent) parent.items.at(-1)!.children.push(fresh);
      else roots.push(fresh);
      stack.push(fresh);
      list = fresh;
    }
    list.items.push({ lines: [item.text], children: [] });
  }
  return roots.map((list) => listHtml(list, paths)).join('\n');
}

function listHtml(list: ListNode, paths: PathIndex): string {
  const tag = list.ordered ? 'ol' : 'ul';
  const start = list.ordered && list.start !== 1 ? ` start="${list.start}"` : '';
  const items = list.items.map((item) => `<li>${renderInline(item.lines.join('\n'), paths)}${item.children.map((child) => listHtml(child, paths)).join('')}</li>`);
  return `<${tag}${start}>${items.join('')}</${tag}>`;
}

/** Inline Markdown: code spans first (their content is literal), then emphasis and links, then citations in plain text. */
export function renderInline(text: string, paths: PathIndex): string {
  let html = '';
  let rest = text;
  while (rest.length > 0) {
    const open = /`+/.exec(rest);
    if (!open) break;
    const ticks = open[0];
    const close = rest.indexOf(ticks, open.index + ticks.length);
    if (close === -1) break;
    html += renderEmphasis(rest.slice(0, open.index), paths);
    const code = rest.slice(open.index + ticks.length, close);
    const target = wholeCitation(code, paths);
    const codeHtml = `<code>${escapeHtml(code.trim() === '' ? code : code.replace(/^ (.*) $/s, '$1'))}</code>`;
    html += target ? citationHtml(target, codeHtml, code.trim()) : codeHtml;
    rest = rest.slice(close + ticks.length);
  }
  return html + renderEmphasis(rest, paths);
}

const EMPHASIS = /\*\*(?=\S)([\s\S]+?)\*\*|__(?=\S)([\s\S]+?)__|\*(?=[^\s*])([\s\S]+?)\*(?!\*)|\[([^\]\n]+)\]\(([^)\s]+)\)/;

function renderEmphasis(text: string, paths: PathIndex): string {
  const match = EMPHASIS.exec(text);
  if (!match) return renderPlain(text, paths);
  const before = renderPlain(text.slice(0, match.index), paths);
  const after = renderEmphasis(text.slice(match.index + match[0].length), paths);
  if (match[1] !== undefined || match[2] !== undefined) return `${before}<strong>${renderEmphasis(match[1] ?? match[2]!, paths)}</strong>${after}`;
  if (match[3] !== undefined) return `${before}<em>${renderEmphasis(match[3], paths)}</em>${after}`;
  // [label](target): a link to a packed file becomes a citation; any other link shows its label only.
  const target = wholeCitation(match[5]!, paths);
  const label = renderPlain(match[4]!, paths);
  return `${before}${target ? citationHtml(target, escapeHtml(match[4]!), match[5]!) : label}${after}`;
}

function renderPlain(text: string, paths: PathIndex): string {
  return linkCitations(text, paths).map((segment) => segment.kind === 'text'
    ? escapeHtml(segment.text)
    : citationHtml(segment.target, escapeHtml(segment.text), segment.text)).join('');
}

function citationHtml(target: CitationTarget, innerHtml: string, cited: string): string {
  const lines = target.line === undefined ? '' : ` data-line="${target.line}"${target.endLine === undefined ? '' : ` data-end-line="${target.endLine}"`}`;
  const where = target.line === undefined ? '' : target.endLine === undefined ? ` at line ${target.line}` : ` at lines ${target.line}-${target.endLine}`;
  return `<a class="citation" href="#" data-path="${escapeHtml(target.path)}"${lines} title="${escapeHtml(`Open ${target.path}${where}`)}" aria-label="${escapeHtml(`${cited}: open ${target.path}${where}`)}">${innerHtml}</a>`;
}
