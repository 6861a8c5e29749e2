// Temporary folders for tests: made under the test process's own temporary folder (test/run.mjs gives each test
// process one) and removed when the process exits, whatever the test's outcome.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();
let hooked = false;

/** Removes `path` (a file or folder) when the process exits. */
export function removeOnExit(path: string): string {
  made.add(path);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAll);
  }
  return path;
}

/** A new empty folder, removed when the process exits (or earlier with `removeNow`). */
export function tempDir(prefix = 'prolong-test-'): string {
  return removeOnExit(mkdtempSync(join(tmpdir(), prefix)));
}

/** Removes a folder made by `tempDir` now (a test that makes many). */
export function removeNow(path: string): void {
  rmSync(path, { recursive: true, force: true });
  made.delete(path);
}

function removeAll(): void {
  for (const path of made) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // exit handlers must not throw; test/run.mjs lists whatever is left
    }
  }
  made.clear();
}
