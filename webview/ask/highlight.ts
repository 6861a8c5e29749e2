/**
 * Syntax highlighting for the answers' fenced code blocks, with highlight.js (its core and the languages a
 * repository's answers show most; a block in another language, or none, stays plain text). highlight.js escapes the
 * code it is given and only adds `<span class="hljs-…">`, so the renderer's rule holds: every character of model
 * text is escaped, the only markup is ours. Colors come from media/ask.css, through the theme's own variables.
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import scss from 'highlight.js/lib/languages/scss';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import swift from 'highlight.js/lib/languages/swift';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { escapeHtml } from '../shared/escape';

const LANGUAGES = { bash, c, cpp, csharp, css, diff, go, java, javascript, json, kotlin, markdown, php, python, ruby, rust, scss, shell, sql, swift, typescript, xml, yaml };
for (const [name, definition] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, definition);

/** The code as HTML: highlighted when `language` (a fence's info word: ts, py, sh, ...) is known, else escaped. */
export function highlightCode(code: string, language: string | undefined): string {
  const known = language ? hljs.getLanguage(language.toLowerCase()) : undefined;
  if (!known) return escapeHtml(code);
  try {
    return hljs.highlight(code, { language: language!.toLowerCase(), ignoreIllegals: true }).value;
  } catch {
    return escapeHtml(code); // a grammar that throws on odd input leaves the block plain, never broken
  }
}
