/** Example questions for the empty Ask view, about this repository when it is packed. Pure (no `vscode`). */
import { fileKind } from '../../engine/packer/budget';

const SOURCE = /\.(?:ts|tsx|js|jsx|mjs|cjs|py|go|rs|java|kt|cs|cpp|cc|c|h|hpp|rb|php|swift|scala|ex|exs|lua|dart|zig)$/i;
const ENTRY = /(?:^|\/)(?:index|main|app|server|cli|lib|__init__|mod)\.[a-z]+$/i;

/** Three questions: what the project does, one about its likely entry point or core module, one about its layout. */
export function exampleQuestions(packedPaths: readonly string[]): string[] {
  const code = packedPaths.filter((path) => SOURCE.test(path) && fileKind(path) === 'code');
  // the shallowest entry-like file, else the shallowest source file
  const depth = (path: string) => path.split('/').length;
  const byDepth = [...code].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
  const entry = byDepth.find((path) => ENTRY.test(path)) ?? byDepth[0];
  const questions = ['What does this repository do, and where does execution start?'];
  if (entry) questions.push(`What does ${entry} do, and what calls it?`);
  const tests = packedPaths.some((path) => fileKind(path) === 'tests');
  questions.push(tests ? 'How is the code organised, and how are the tests run?' : 'How is the code organised: which folder holds what?');
  return questions;
}
