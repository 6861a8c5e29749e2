/**
 * A generated code repository for evaluating repository questions on code no model was trained on: modules in
 * nested folders, each defining a few functions and classes named from English words and calling definitions of
 * other modules (so every name also appears, as a use, in files that do not define it). Deterministic per seed.
 *
 *   writeFixtureRepo(dir, 'ts' | 'py', seed, { modules: 40 })
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SeededRandom } from '../../engine/probes/random';
import { manyEnglishWords } from '../../engine/probes/words';

export type FixtureLanguage = 'ts' | 'py';

interface Definition { name: string; kind: 'function' | 'class'; module: string }

const FOLDERS = ['core', 'util', 'io', 'net', 'model', 'store', 'cli', 'sync', 'text', 'auth'];

/** Writes the repository under `dir`; returns its definitions (name, kind, defining module path). */
export function writeFixtureRepo(dir: string, language: FixtureLanguage, seed: string, options: { modules?: number } = {}): Definition[] {
  const random = new SeededRandom('fixture-repo', language, seed);
  const words = manyEnglishWords();
  const used = new Set<string>();
  const word = (): string => {
    for (;;) {
      const w = random.pick(words);
      if (!used.has(w)) { used.add(w); return w; }
    }
  };
  const ext = language === 'ts' ? 'ts' : 'py';
  const modules: string[] = [];
  for (let i = 0; i < (options.modules ?? 40); i++) modules.push(`src/${random.pick(FOLDERS)}/${word()}_${word()}.${ext}`.replace(/_/g, language === 'ts' ? '-' : '_'));
  const definitions: Definition[] = [];
  for (const module of modules) {
    for (let d = random.int(3, 6); d > 0; d--) {
      const [a, b] = [word(), word()];
      const kind = random.next() < 0.25 ? 'class' : 'function';
      const name = kind === 'class' ? cap(a) + cap(b) : language === 'ts' ? a + cap(b) : `${a}_${b}`;
      definitions.push({ name, kind, module });
    }
  }
  for (const module of modules) {
    const own = definitions.filter((d) => d.module === module);
    const others = definitions.filter((d) => d.module !== module);
    const calls = random.sample(others, Math.min(others.length, random.int(2, 4)));
    const text = language === 'ts' ? typescriptModule(module, own, calls, random) : pythonModule(module, own, calls, random);
    mkdirSync(dirname(join(dir, module)), { recursive: true });
    writeFileSync(join(dir, module), text);
  }
  writeFileSync(join(dir, 'README.md'), `# ${cap(word())} ${word()}\n\nA generated repository (training/data/fixtureRepo.ts, seed ${seed}).\n`);
  return definitions;
}

function cap(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}

function typescriptModule(module: string, own: Definition[], calls: Definition[], random: SeededRandom): string {
  const lines: string[] = [];
  const byModule = new Map<string, string[]>();
  for (const call of calls) byModule.set(call.module, [...(byModule.get(call.module) ?? []), call.name]);
  for (const [from, names] of byModule) lines.push(`import { ${names.join(', ')} } from '${relative(module, from).replace(/\.ts$/, '')}';`);
  lines.push('');
  for (const def of own) {
    const call = random.pick(calls);
    const use = call.kind === 'class' ? `new ${call.name}(input)` : `${call.name}(input)`;
    if (def.kind === 'class') {
      lines.push(`/** Keeps the ${random.pick(manyEnglishWords())} state. */`, `export class ${def.name} {`, '  constructor(private readonly input: unknown) {}', '',
        `  run(): unknown {`, `    const input = this.input;`, `    return ${use};`, '  }', '}', '');
    } else {
      lines.push(`/** Returns the ${random.pick(manyEnglishWords())} of the input. */`, `export function ${def.name}(input: unknown): unknown {`,
        `  if (input === undefined) return ${random.int(0, 99)};`, `  return ${use};`, '}', '');
    }
  }
  return lines.join('\n');
}

function pythonModule(module: string, own: Definition[], calls: Definition[], random: SeededRandom): string {
  const lines: string[] = [`"""The ${random.pick(manyEnglishWords())} module."""`];
  const byModule = new Map<string, string[]>();
  for (const call of calls) byModule.set(call.module, [...(byModule.get(call.module) ?? []), call.name]);
  for (const [from, names] of byModule) lines.push(`from ${from.replace(/\.py$/, '').replace(/\//g, '.')} import ${names.join(', ')}`);
  lines.push('');
  for (const def of own) {
    const call = random.pick(calls);
    if (def.kind === 'class') {
      lines.push('', `class ${def.name}:`, `    """Keeps the ${random.pick(manyEnglishWords())} state."""`, '', '    def __init__(self, value):', '        self.value = value', '',
        '    def run(self):', `        return ${call.name}(self.value)`, '');
    } else {
      lines.push('', `def ${def.name}(value):`, `    """Returns the ${random.pick(manyEnglishWords())} of the value."""`, '    if value is None:', `        return ${random.int(0, 99)}`,
        `    return ${call.name}(value)`, '');
    }
  }
  return lines.join('\n');
}

function relative(from: string, to: string): string {
  const a = from.split('/').slice(0, -1);
  const b = to.split('/');
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const up = a.length - i;
  return (up === 0 ? './' : '../'.repeat(up)) + b.slice(i).join('/');
}
