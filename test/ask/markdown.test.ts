import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathIndex } from '../../webview/ask/citations';
import { renderMarkdown, renderInline } from '../../webview/ask/markdown';

const paths = new PathIndex(['src/main.ts', 'src/lib/util.ts']);
const none = new PathIndex([]);

test('paragraphs, headings, inline code, bold and italics', () => {
  assert.equal(renderMarkdown('# Title\n\nOne line\nand the next.\n\nA **bold** and *italic* `x < y` word.', none),
    '<h3>Title</h3>\n<p>One line\nand the next.</p>\n<p>A <strong>bold</strong> and <em>italic</em> <code>x &lt; y</code> word.</p>');
});

test('fenced code blocks keep their text literally, and an unclosed fence runs to the end (streaming)', () => {
  assert.equal(renderMarkdown('Before\n```text\nconst a = <T>(x: T) => x; // **not bold** src/main.ts\n```\nAfter', paths),
    '<p>Before</p>\n<pre data-language="text"><code>const a = &lt;T&gt;(x: T) =&gt; x; // **not bold** src/main.ts</code></pre>\n<p>After</p>');
  assert.equal(renderMarkdown('```\nline 1\nline 2', none), '<pre><code>line 1\nline 2</code></pre>');
});

test('code blocks in a known language are highlighted; the text stays the same and every character stays escaped', () => {
  const code = 'const a = <T>(x: T) => "</code></pre><script>"; // **not bold** src/main.ts';
  const html = renderMarkdown(`\`\`\`ts\n${code}\n\`\`\``, paths);
  assert.match(html, /^<pre data-language="ts"><code><span class="hljs-keyword">const<\/span> a = /);
  assert.match(html, /<span class="hljs-string">&quot;&lt;\/code&gt;&lt;\/pre&gt;&lt;script&gt;&quot;<\/span>/);
  assert.match(html, /<span class="hljs-comment">\/\/ \*\*not bold\*\* src\/main.ts<\/span>/);
  const text = html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  assert.equal(text, code, 'only spans were added');
  assert.match(renderMarkdown('```py\ndef f(): return 1\n```', none), /<span class="hljs-keyword">def<\/span>/, 'aliases: py is Python');
  assert.equal(renderMarkdown('```brainfuck\n<+>\n```', none), '<pre data-language="brainfuck"><code>&lt;+&gt;</code></pre>', 'an unknown language stays plain');
});

test('lists: unordered, ordered with a start, nested by indentation, with continuation lines', () => {
  assert.equal(renderMarkdown('- a\n- b\n  - b1\n  - b2\n- c\n  more c', none),
    '<ul><li>a</li><li>b<ul><li>b1</li><li>b2</li></ul></li><li>c\nmore c</li></ul>');
  assert.equal(renderMarkdown('3. three\n4. four', none), '<ol start="3"><li>three</li><li>four</li></ol>');
  assert.equal(renderMarkdown('Steps:\n\n1. one\n2. two\n\nDone.', none), '<p>Steps:</p>\n<ol><li>one</li><li>two</li></ol>\n<p>Done.</p>');
});

test('model text is escaped everywhere: no element or attribute can come from the answer', () => {
  const hostile = '<img src=x onerror=alert(1)> "quoted" & \'single\'\n\n- <script>alert(1)</script>\n\n`<b>`\n\n```\n</code></pre><script>x</script>\n```\n\n> <iframe>\n\n# <h1>';
  const html = renderMarkdown(hostile, paths);
  for (const tag of ['<img', '<script', '<iframe', '<b>', '<h1>', '</code></pre><']) assert.ok(!html.includes(tag), `${tag} is escaped in ${html}`);
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; &#39;single&#39;'));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
});

test('links to URLs show their label only; links to packed files become citations', () => {
  assert.equal(renderInline('[the docs](https://evil.example/x) and [util](src/lib/util.ts#L2)', paths),
    'the docs and <a class="citation" href="#" data-path="src/lib/util.ts" data-line="2" title="Open src/lib/util.ts at line 2" aria-label="src/lib/util.ts#L2: open src/lib/util.ts at line 2">util</a>');
  assert.ok(!renderMarkdown('[x](javascript:alert(1))', paths).includes('javascript:'), 'no href from the answer');
});

test('citations in plain text and in inline code, none inside code blocks', () => {
  const html = renderMarkdown('See src/main.ts:2 and `src/lib/util.ts`.\n\n```\nsrc/main.ts:2\n```', paths);
  assert.match(html, /<a class="citation" href="#" data-path="src\/main\.ts" data-line="2" [^>]*>src\/main\.ts:2<\/a>/);
  assert.match(html, /<a class="citation" href="#" data-path="src\/lib\/util\.ts" [^>]*><code>src\/lib\/util\.ts<\/code><\/a>/);
  assert.equal(html.match(/class="citation"/g)?.length, 2);
});

test('a citation of a path with quotes or angle brackets stays inside its attribute', () => {
  const odd = new PathIndex(['a"b<c> d.ts']);
  const html = renderInline('open `a"b<c> d.ts:2`', odd);
  assert.match(html, /data-line="2"/);
  assert.ok(html.includes('data-path="a&quot;b&lt;c&gt; d.ts"'), html);
  assert.ok(!/data-path="a"b/.test(html));
});

test('tables: header, alignment, escaped pipes and pipes in code, citations in cells; a row without a divider stays text', () => {
  const html = renderMarkdown('| file | role |\n|:---|---:|\n| src/main.ts | calls `a \\| b` and `x|y` |\n| <b> | 2 |\n\nAfter.', paths);
  assert.equal(html, '<table><thead><tr><th>file</th><th style="text-align:right">role</th></tr></thead><tbody>'
    + '<tr><td><a class="citation" href="#" data-path="src/main.ts" title="Open src/main.ts" aria-label="src/main.ts: open src/main.ts">src/main.ts</a></td>'
    + '<td style="text-align:right">calls <code>a | b</code> and <code>x|y</code></td></tr>'
    + '<tr><td>&lt;b&gt;</td><td style="text-align:right">2</td></tr></tbody></table>\n<p>After.</p>');
  assert.equal(renderMarkdown('| not | a table |', none), '<p>| not | a table |</p>');
});
