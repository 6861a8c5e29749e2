import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, symlinkSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { walkRepository, type WalkResult } from '../../engine/packer/walk';
import { git, gitListFiles, tempDir, writeTree } from './fixtures';

function listed(result: WalkResult): string[] {
  return [...result.candidates.map((c) => c.path), ...result.skipped.filter((s) => !s.path.endsWith('/')).map((s) => s.path)].sort();
}

function makeRepository(): { root: string; home: string } {
  const home = tempDir('prolong-home-');
  writeTree(home, {
    '.gitconfig': '[core]\n\texcludesFile = ~/global-ignore\n',
    'global-ignore': '*.bak\n',
  });
  const root = tempDir();
  git(root, home, 'init', '-q');
  writeTree(root, {
    '.gitignore': [
      '# comment', '*.log', '!important.log', 'build/', '/rooted.txt', 'docs/**/*.tmp', 'dir-only/', '\\#hash',
      'logs/', '!logs/keep.txt', 'foo/*', '!foo/bar/', 'trailing.txt   ', 'readme.md', '',
    ].join('\n'),
    'a.txt': 'a\n', 'important.log': 'i\n', 'x.log': 'x\n', 'rooted.txt': 'r\n', '#hash': 'h\n', 'README.MD': 'R\n',
    'build/out.js': 'o\n', 'build/tracked.txt': 't\n', 'dir-only': 'file, not a directory\n',
    'other/dir-only/f.txt': 'f\n', 'docs/c.tmp': 'c\n', 'docs/a/b.tmp': 'b\n', 'docs/a/b.md': 'b\n',
    'logs/keep.txt': 'k\n', 'logs/drop.txt': 'd\n', 'foo/x.txt': 'x\n', 'foo/bar/y.txt': 'y\n', 'trailing.txt': 't\n',
    'secret.env': 's\n', 'copy.bak': 'b\n',
    'sub/.gitignore': '!keep.log\nlocal.txt\n*.gen\n',
    'sub/rooted.txt': 'r\n', 'sub/keep.log': 'k\n', 'sub/other.log': 'o\n', 'sub/local.txt': 'l\n', 'sub/code.gen': 'g\n',
    'sub/deeper/.gitignore': '!local.txt\n', 'sub/deeper/local.txt': 'l\n', 'sub/deeper/main.py': 'print(1)\n',
    'sub/CRLF/.gitignore': 'crlf.txt\r\n', 'sub/CRLF/crlf.txt': 'c\n', 'sub/CRLF/kept.txt': 'k\n',
  });
  writeFileSync(join(root, '.git', 'info', 'exclude'), 'secret.env\n');
  git(root, home, 'add', '-A');
  git(root, home, 'add', '-f', 'build/tracked.txt', 'sub/code.gen');
  git(root, home, 'commit', '-qm', 'fixture');
  writeTree(root, { 'untracked.txt': 'u\n', 'sub/untracked.log': 'u\n', 'sub/new.gen': 'n\n' });
  return { root, home };
}

test('the walk lists exactly what git ls-files --cached --others --exclude-standard lists', () => {
  const { root, home } = makeRepository();
  const expected = gitListFiles(root, home);
  // sanity: the fixture exercises tracked-but-ignored files, negations, the exclude file and global excludes
  assert.ok(expected.includes('build/tracked.txt') && expected.includes('important.log') && expected.includes('sub/keep.log'));
  assert.ok(!expected.includes('secret.env') && !expected.includes('copy.bak') && !expected.includes('logs/keep.txt'));
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home, xdgConfigHome: join(home, '.config') } });
  assert.equal(result.git, true);
  assert.deepEqual(listed(result), expected);
});

test('a subdirectory of a repository keeps the rules of its ancestors', () => {
  const { root, home } = makeRepository();
  const expected = gitListFiles(join(root, 'sub'), home).map((p) => p); // git prints paths relative to cwd
  const result = walkRepository({ root: join(root, 'sub'), maxFileBytes: 1 << 20, gitEnvironment: { home, xdgConfigHome: join(home, '.config') } });
  assert.deepEqual(listed(result), expected);
});

test('a tracked file deleted from the working tree is reported as skipped', () => {
  const { root, home } = makeRepository();
  rmSync(join(root, 'important.log'));
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home } });
  assert.deepEqual(result.skipped.find((s) => s.path === 'important.log'), { path: 'important.log', reason: 'tracked by git but missing from the working tree' });
  assert.deepEqual(listed(result), gitListFiles(root, home));
});

test('git index versions 2, 3 and 4 read the same', () => {
  const { root, home } = makeRepository();
  for (const version of ['2', '3', '4']) {
    git(root, home, 'update-index', '--index-version', version);
    const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home, xdgConfigHome: join(home, '.config') } });
    assert.deepEqual(listed(result), gitListFiles(root, home), `index version ${version}`);
  }
});

test('the order of directory listings never changes the result', () => {
  const { root, home } = makeRepository();
  const plain = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home } });
  let seed = 7;
  const random = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const shuffled = (path: string): Dirent[] => {
    const entries = readdirSync(path, { withFileTypes: true });
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return entries;
  };
  for (let round = 0; round < 3; round++) {
    const other = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home }, listDirectory: shuffled });
    assert.deepEqual(other.candidates.map((c) => c.path), plain.candidates.map((c) => c.path));
    assert.deepEqual(other.skipped, plain.skipped);
  }
});

test('skip reasons: size, lockfile, vendored, symlinks, .prolongignore, settings, include override', () => {
  const home = tempDir('prolong-home-');
  const root = tempDir();
  const outside = tempDir('prolong-outside-');
  writeTree(outside, { 'secret.txt': 'outside\n' });
  writeTree(root, {
    'src/a.ts': 'export const a = 1;\n', 'big.txt': 'x'.repeat(2000), 'package-lock.json': '{}\n',
    'vendor/lib.js': 'v\n', 'web/app.min.js': 'm\n', 'keep/app.min.js': 'forced\n',
    '.prolongignore': 'docs/\n*.snap\n', 'docs/guide.md': 'g\n', 'test/x.snap': 's\n', 'notes/todo.md': 't\n',
  });
  symlinkSync(join(outside, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(join(root, 'src'), join(root, 'src-link'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  symlinkSync('missing.txt', join(root, 'dangling'));
  symlinkSync('src/a.ts', join(root, 'alias.ts'));
  const result = walkRepository({ root, maxFileBytes: 1000, exclude: ['notes/'], include: ['keep/**'], gitEnvironment: { home } });
  const reasons = Object.fromEntries(result.skipped.map((s) => [s.path, s.reason]));
  assert.match(reasons['big.txt']!, /^too large \(2000 bytes; the limit is 1000/);
  assert.equal(reasons['package-lock.json'], 'lockfile');
  assert.equal(reasons['vendor/'], undefined, 'include patterns exist, so vendored files are judged one by one');
  assert.equal(reasons['vendor/lib.js'], 'vendored (under vendor/)');
  assert.equal(reasons['web/app.min.js'], 'minified');
  assert.equal(reasons['escape.txt'], 'symlink points outside the repository');
  assert.equal(reasons['src-link'], 'symlink to a directory (git stores the link, not the directory)');
  assert.equal(reasons['loop-a'], 'symlink loop');
  assert.equal(reasons['dangling'], 'broken symlink');
  assert.equal(reasons['docs/'], 'excluded by .prolongignore');
  assert.equal(reasons['test/x.snap'], 'excluded by .prolongignore');
  assert.equal(reasons['notes/'], 'excluded by the prolong.pack.exclude setting');
  assert.deepEqual(result.candidates.map((c) => c.path), ['.prolongignore', 'alias.ts', 'keep/app.min.js', 'src/a.ts']);
  assert.equal(result.git, false);
  const noOverrides = walkRepository({ root, maxFileBytes: 1000, gitEnvironment: { home } });
  assert.equal(noOverrides.skipped.find((s) => s.path === 'vendor/')?.reason, 'vendored');
});
