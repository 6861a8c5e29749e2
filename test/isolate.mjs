// Preloaded into every test process by test/run.mjs (node --import): the process gets its own temporary folder,
// cache folder ($XDG_CACHE_HOME: the packer's cache, the prefix store) and Hugging Face home, under the run's root
// folder, so no test reads or writes the user's real cache and test/run.mjs can list what a test left behind.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.env.PROLONG_TEST_ROOT;
const file = process.argv.slice(1).find((arg) => arg.endsWith('.test.ts'));
if (root && file) {
  const name = relative(join(process.cwd(), 'test'), file).replace(/[\\/]/g, '_').replace(/\.test\.ts$/, '');
  const dir = mkdtempSync(join(root, `${name}-`));
  for (const [variable, folder] of [['TMPDIR', 'tmp'], ['XDG_CACHE_HOME', 'cache'], ['HF_HOME', 'huggingface']]) {
    mkdirSync(join(dir, folder));
    process.env[variable] = join(dir, folder);
  }
}
