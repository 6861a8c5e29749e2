/**
 * The definitions index: an optional block after the document's last file (so right before a question, and an edit
 * changes the document no earlier than it did without it: edit-aware order keeps its long unchanged prefix), a symbol
 * table with a line per name a file defines, then the file, in the document's file order:
 *
 *   Definitions:
 *   `Packer`: src/a.ts
 *   `pack`: src/a.ts
 *   `parse_args`: src/b.py
 *
 * "Which file defines `X`?" then reads the line of X, the path right after the name as a value follows its key in a
 * RULER needle, instead of the hop from `def X` to the path header a whole file body above it, which small models
 * fail at (training/studies/which_file.py; the demo model, training/README.md). The name is in backticks as a
 * question writes it (its first token after a backtick differs from the one after a space), and the path follows a
 * space, as in its file header (`==> src/...`) and an answer (`... in src/...`).
 */
import { quotePath } from './format';

/**
 * Definition lines for JavaScript/TypeScript and Python, and for files of other or no known language; group 1 is the
 * name. (Kept as they were when the demo model's training data was made: its rows stay the same.)
 */
export const DEFINITION_PATTERNS: readonly RegExp[] = [
  /^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|interface|enum)\s+([A-Za-z_$][\w$]*)/,
  /^(?:export\s+)?(?:type|const|let|var)\s+([A-Za-z_$][\w$]*)\s*[=:<]/,
  /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/,
  /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/,
  /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:fn|struct|enum|trait)\s+([A-Za-z_]\w*)/,
];

// Modifiers that may come before a definition's keyword, by language family.
const JVM_MODIFIERS = String.raw`(?:(?:public|private|protected|internal|static|final|abstract|sealed|non-sealed|open|data|inner|enum|annotation|value|inline|case|implicit|override|expect|actual|fun|strictfp|synchronized|native|default|suspend|operator|infix|tailrec|external|const|@\w+(?:\([^)]*\))?)\s+)*`;
const CSHARP_MODIFIERS = String.raw`(?:(?:public|private|protected|internal|static|sealed|abstract|partial|readonly|ref|unsafe|new|file|virtual|override|async|extern|\[[^\]]*\])\s+)*`;
const SWIFT_MODIFIERS = String.raw`(?:(?:public|private|fileprivate|internal|package|open|final|static|class|override|mutating|nonmutating|indirect|convenience|required|dynamic|nonisolated|@\w+(?:\([^)]*\))?)\s+)*`;
const RUST_VISIBILITY = String.raw`(?:pub(?:\([^)]*\))?\s+)?`;

/** A C-family function whose return type is on the line above (`f(void)` at column 0: curl's and GNU's style). */
const C_NAME_ALONE = /^((?:\w+::)*~?[A-Za-z_]\w*)\s*\([^;]*$/;
/**
 * A C-family function with its return type on the line (`static int f(void)`); a line ending in `;` declares it. (One
 * star a step: `\*+` inside the repetition backtracked exponentially on a line of stars, a comment box's edge.)
 */
const C_FUNCTION = /^(?:[A-Za-z_][\w*&<>,:]*\s+|\*)+&?((?:\w+::)*~?[A-Za-z_]\w*)\s*\([^;]*$/;
/** Lines read past a function's first line for its body's `{` or a prototype's `;`. */
const C_SIGNATURE_LINES = 12;
/** Words a C-family line can start with that are not a definition's name. */
const C_KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'else', 'do', 'case', 'sizeof', 'typedef', 'goto', 'defined',
  '__attribute__', '__declspec', 'alignas', 'static_assert', '_Static_assert', 'decltype', 'noexcept', 'operator']);

/** Definition lines of the languages whose definitions DEFINITION_PATTERNS misses (modifiers, C's functions). */
const LANGUAGE_PATTERNS: Readonly<Record<string, readonly RegExp[]>> = {
  go: [
    /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/,
    /^type\s+([A-Za-z_]\w*)[\s[]/,
    /^(?:const|var)\s+([A-Za-z_]\w*)\s/,
  ],
  rust: [
    new RegExp(String.raw`^\s*${RUST_VISIBILITY}(?:(?:async|const|unsafe|extern(?:\s+"[^"]*")?)\s+)*fn\s+([A-Za-z_]\w*)`),
    new RegExp(String.raw`^\s*${RUST_VISIBILITY}(?:struct|enum|trait|type|union|mod)\s+([A-Za-z_]\w*)`),
    new RegExp(String.raw`^\s*${RUST_VISIBILITY}(?:const|static)\s+(?:mut\s+)?([A-Za-z_]\w*)\s*:`),
    /^\s*macro_rules!\s*([A-Za-z_]\w*)/,
  ],
  c: [
    // a struct, union, class or enum with its body here or on the next line (`struct stat st;` declares, not defines)
    /^\s*(?:typedef\s+)?(?:struct|union|class|enum(?:\s+class|\s+struct)?)\s+(?:\w+\s+)*?([A-Za-z_]\w*)\s*(?:final\s*)?(?:[:{]|$)/,
    /^typedef\b[^;(]*?\b([A-Za-z_]\w*)\s*;/,
    /^typedef\b.*\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/,
    /^}\s*([A-Za-z_]\w*)\s*;/,
    // a function at column 0, its return type on the line or above it (curl's and GNU's style)
    C_FUNCTION,
    C_NAME_ALONE,
  ],
  jvm: [
    new RegExp(String.raw`^\s*${JVM_MODIFIERS}(?:class|interface|enum|record|object|trait|@interface)\s+([A-Za-z_$][\w$]*)`),
    new RegExp(String.raw`^\s*${JVM_MODIFIERS}fun\s+(?:<[^>]*>\s*)?(?:[\w.<>?, ]+\.)?([A-Za-z_]\w*)\s*\(`),
    new RegExp(String.raw`^\s*${JVM_MODIFIERS}def\s+([A-Za-z_]\w*)`),
    // a method: at least one modifier, a type, the name (a call or a statement has no modifier)
    // (a generic type may hold spaces: `Map<String, List<Integer>> group(`)
    /^\s*(?:(?:public|private|protected|static|final|abstract|synchronized|native|default|strictfp|override|open|internal)\s+)+(?:<[^>]+>\s+)?[\w.$?]+(?:\s*<[^()=;]*>)?(?:\[\])*\s+([a-zA-Z_$][\w$]*)\s*\(/,
    // one without a modifier (JUnit 5's `void test()`): `void` or a capitalised type, a lower-case name, no `;` after
    /^\s+(?:@\w+(?:\([^)]*\))?\s+)*(?:void|[A-Z][\w.]*(?:<[^;()]*>)?(?:\[\])*)\s+([a-z_$][\w$]*)\s*\([^;]*$/,
  ],
  csharp: [
    new RegExp(String.raw`^\s*${CSHARP_MODIFIERS}(?:class|interface|enum|struct|record(?:\s+struct|\s+class)?|delegate\s+[\w<>\[\],.?]+)\s+([A-Za-z_]\w*)`),
    /^\s*(?:(?:public|private|protected|internal|static|virtual|override|abstract|async|sealed|extern|unsafe|new|partial|readonly)\s+)+[\w.?]+(?:\s*<[^=;]*>)?(?:\[[,\s]*\])*\??\s+([A-Za-z_]\w*)\s*(?:<[^>]*>\s*)?\(/,
    // one without a modifier (private by default): `void` or a capitalised type, a capitalised name, no `;` after
    /^\s+(?:\[[^\]]*\]\s*)*(?:void|[A-Z][\w.]*(?:<[^;()]*>)?(?:\[\])*\??)\s+([A-Z_]\w*)\s*(?:<[^>]*>\s*)?\([^;]*$/,
  ],
  swift: [
    // `class` is a modifier too (`class func f`, `class var v`): a `var` or `let` after it is no name
    new RegExp(String.raw`^\s*${SWIFT_MODIFIERS}(?:func|class|struct|enum|protocol|actor|typealias)\s+(?!(?:var|let|subscript|init|deinit)\b)([A-Za-z_]\w*)`),
  ],
  ruby: [
    /^\s*def\s+(?:self\.)?([A-Za-z_]\w*[?!=]?)(?![\w.])/,
    /^\s*(?:class|module)\s+(?:[A-Z]\w*::)*([A-Z]\w*)/,
  ],
  php: [
    /^\s*(?:(?:public|private|protected|static|final|abstract|readonly)\s+)*function\s+&?([A-Za-z_]\w*)/,
    /^\s*(?:(?:final|abstract|readonly)\s+)*(?:class|interface|trait|enum)\s+([A-Za-z_]\w*)/,
  ],
};

const LANGUAGE_OF_EXTENSION: Readonly<Record<string, string>> = {
  go: 'go', rs: 'rust',
  c: 'c', h: 'c', cc: 'c', cpp: 'c', cxx: 'c', hpp: 'c', hh: 'c', hxx: 'c', m: 'c', mm: 'c',
  java: 'jvm', kt: 'jvm', kts: 'jvm', scala: 'jvm', groovy: 'jvm',
  cs: 'csharp', swift: 'swift', rb: 'ruby', php: 'php',
};

/** The patterns for the file at `path` (its extension's language); DEFINITION_PATTERNS for any other, or no path. */
function patternsFor(path: string | undefined): readonly RegExp[] {
  const extension = path === undefined ? '' : /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  const language = LANGUAGE_OF_EXTENSION[extension];
  return language ? LANGUAGE_PATTERNS[language]! : DEFINITION_PATTERNS;
}

/**
 * True when the function signature starting at `lines[start]` ends in `;` before any `{`: a prototype split over lines
 * (as headers write them), which declares the name the source file defines. Undecided within a few lines: a definition.
 */
function isPrototype(lines: readonly string[], start: number): boolean {
  for (let i = start; i < Math.min(lines.length, start + C_SIGNATURE_LINES); i++) {
    const line = i === start ? lines[i]!.slice(lines[i]!.indexOf('(')) : lines[i]!;
    const end = line.search(/[;{]/);
    if (end >= 0) return line[end] === ';';
  }
  return false;
}

/** The names `text` (the file at `path`) defines, each once, in the order of their first definition. */
export function definedNames(text: string, path?: string): string[] {
  const patterns = patternsFor(path);
  const cFamily = patterns === LANGUAGE_PATTERNS.c;
  const names = new Set<string>();
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    for (const pattern of patterns) {
      let name = pattern.exec(line)?.[1];
      if (!name) continue;
      if (cFamily) {
        name = name.slice(name.lastIndexOf(':') + 1); // Foo::bar -> bar
        if (C_KEYWORDS.has(name)) continue;
        // all capitals alone at column 0: a macro's use (TEST(...), CURL_EXTERN ...), not a function
        if (pattern === C_NAME_ALONE && /^[A-Z0-9_]+$/.test(name)) continue;
        if ((pattern === C_FUNCTION || pattern === C_NAME_ALONE) && isPrototype(lines, i)) continue;
      }
      names.add(name);
    }
  }
  return [...names];
}

/** Most names the index lists for one file (a generated file can define thousands). */
export const MAX_INDEX_NAMES = 64;

export const INDEX_TITLE = 'Definitions:\n';
/** Ends the index with a blank line, as each file's chunk ends. */
export const INDEX_END = '\n';

/** A file's lines in the index ('' when it defines nothing): each name, then the path as its header writes it. */
export function fileIndexLines(path: string, text: string): string {
  const quoted = quotePath(path);
  return definedNames(text, path).slice(0, MAX_INDEX_NAMES).map((name) => `\`${name}\`: ${quoted}\n`).join('');
}

/** The whole index block for the files' lines already made ('' when no file defines anything). */
export function indexBlock(lines: readonly string[]): string {
  const body = lines.join('');
  return body === '' ? '' : INDEX_TITLE + body + INDEX_END;
}
