// Output files of the CLI (--out, --csv): checked before a long run starts, written without losing results.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors';

/**
 * Checks that `path` (given as `option`) can be written: its folder exists and is writable, and it is not a
 * folder itself. Throws a UserError naming the option and the path, before any work is done.
 */
export function checkOutputPath(path: string, option: string): void {
  const absolute = resolve(path);
  const folder = dirname(absolute);
  let folderStats;
  try {
    folderStats = statSync(folder);
  } catch {
    throw new UserError(`${option} ${path}: the folder ${folder} does not exist.`, `Create it first (mkdir -p ${folder}), or give ${option} a path in an existing folder.`);
  }
  if (!folderStats.isDirectory()) throw new UserError(`${option} ${path}: ${folder} is not a folder.`, `Give ${option} a path in an existing folder.`);
  let existing;
  try {
    existing = statSync(absolute);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory()) throw new UserError(`${option} ${path} is a folder.`, `Give ${option} a file name, e.g. ${join(path, 'results' + (option === '--csv' ? '.csv' : '.json'))}.`);
  try {
    accessSync(existing ? absolute : folder, constants.W_OK);
  } catch {
    throw new UserError(`${option} ${path}: ${existing ? 'the file' : `the folder ${folder}`} is not writable.`, `Give ${option} a path you can write.`);
  }
}

/**
 * Writes `text` to `path`; when that fails (the disk filled up, the folder went away during a long run), writes
 * it to a file in the temporary folder instead, so the results are never lost, and says where on stderr.
 * Returns the path written, or undefined when neither could be written.
 */
export function writeOutputFile(path: string, text: string, option: string): string | undefined {
  try {
    writeFileSync(path, text);
    return path;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const fallback = join(tmpdir(), `prolong-${Date.now()}-${basename(path)}`);
    try {
      writeFileSync(fallback, text);
      process.stderr.write(`prolong: cannot write ${option} ${path} (${reason}); the results are in ${fallback} instead\n`);
      return fallback;
    } catch {
      process.stderr.write(`prolong: cannot write ${option} ${path} (${reason}), nor a copy in ${tmpdir()}\n`);
      return undefined;
    }
  }
}

/**
 * A folder the user did not name is packed only when it looks like a project: never the file-system root or the
 * home folder (a pack of either reads everything the user has). Throws a UserError naming the folder.
 */
export function refuseUnsafeRoot(root: string, option: string): void {
  const home = process.env.HOME ? resolve(process.env.HOME) : homedir();
  if (root === resolve('/') || root === home) {
    throw new UserError(`Refusing to pack ${root === home ? 'your home folder' : 'the file-system root'} (${root}) as the repository.`,
      `Run it in a project folder, or give ${option} PROJECT_DIR.`);
  }
}
