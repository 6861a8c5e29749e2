import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { walkRepository, type WalkResult } from '../../engine/packer/walk';
import { globalExcludesFile } from '../../engine/packer/gitRepo';
import { UserError } from '../../engine/errors';
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
  assert.match(reasons['big.txt']!, /^too large \(2000 bytes; the limit is 1000: the setting prolong\.pack\.maxFileBytes, or --max-file-bytes of prolong pack\)$/);
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

/** A fresh repository holding `files`, with those in `add` tracked (ignore rules or not). */
function repositoryWith(files: Record<string, string>, add: string[] = []): { root: string; home: string; env: { home: string; xdgConfigHome: string } } {
  const home = tempDir('prolong-home-');
  const root = tempDir();
  git(root, home, 'init', '-q');
  writeTree(root, files);
  if (add.length > 0) git(root, home, 'add', '-f', ...add);
  return { root, home, env: { home, xdgConfigHome: join(home, '.config') } };
}

test('a deeper .gitignore re-includes a directory a shallower one ignores, as git does', () => {
  const cases: Record<string, string>[] = [
    // the reported case: a root `foo/`, re-included under sub/
    { '.gitignore': 'foo/\n', 'sub/.gitignore': '!foo/\n', 'sub/foo/x.txt': 'x', 'sub/foo/deeper/y.txt': 'y', 'foo/z.txt': 'z' },
    // a negation in the same file cannot reach into an ignored directory
    { '.gitignore': 'foo/\n!foo/x.txt\n', 'foo/x.txt': 'x', 'sub/foo/x.txt': 'x' },
    // `dir/**` ignores the contents, not the directory, so a negation of a file inside works
    { '.gitignore': 'd/**\n!d/keep.txt\n', 'd/keep.txt': 'k', 'd/drop.txt': 'd', 'd/e/f.txt': 'f' },
    // re-included, then a file ignored again deeper down, and a file pattern of the root still applying
    { '.gitignore': 'gen/\n*.log\n', 'a/.gitignore': '!gen/\n', 'a/gen/.gitignore': 'b.txt\n', 'a/gen/a.txt': 'a', 'a/gen/b.txt': 'b', 'a/gen/c.log': 'c', 'b/gen/a.txt': 'a' },
    // the root's `foo/*` still judges the directory's own entries after a deeper file keeps foo/
    { '.gitignore': 'foo/*\n', 'foo/.gitignore': '!bar/\n', 'foo/bar/x.txt': 'x', 'foo/y.txt': 'y', 'foo/baz/z.txt': 'z' },
  ];
  for (const files of cases) {
    const { root, home, env } = repositoryWith(files);
    const expected = gitListFiles(root, home);
    assert.deepEqual(listed(walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env })), expected, JSON.stringify(files));
  }
  const { root, env } = repositoryWith(cases[0]!);
  const paths = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env }).candidates.map((c) => c.path);
  assert.ok(paths.includes('sub/foo/x.txt') && paths.includes('sub/foo/deeper/y.txt') && !paths.includes('foo/z.txt'), paths.join(', '));
});

test('packing a directory inside an ignored one lists only its tracked files, whatever its own negations say', () => {
  const { root, home, env } = repositoryWith({
    '.gitignore': 'build/\n', 'build/sub/.gitignore': '!x.txt\n!*.log\n', 'build/sub/x.txt': 'x', 'build/sub/y.log': 'y', 'build/sub/tracked.txt': 't',
  }, ['build/sub/tracked.txt']);
  const sub = join(root, 'build', 'sub');
  const expected = gitListFiles(sub, home);
  assert.deepEqual(expected, ['tracked.txt']);
  assert.deepEqual(listed(walkRepository({ root: sub, maxFileBytes: 1 << 20, gitEnvironment: env })), expected);
  // likewise a directory inside one the project's .prolongignore excludes: one entry for the whole root
  writeTree(root, { '.prolongignore': 'docs/\n', 'docs/guide/.prolongignore': '!*.md\n', 'docs/guide/a.md': 'a' });
  const docs = walkRepository({ root: join(root, 'docs', 'guide'), maxFileBytes: 1 << 20, gitEnvironment: env });
  assert.deepEqual([docs.candidates, docs.skipped], [[], [{ path: './', reason: 'excluded by .prolongignore' }]]);
});

test('a symlink is packed only when its target is: never a way around .gitignore or .prolongignore', () => {
  const { root, env } = repositoryWith({
    '.gitignore': '.env\nsecrets/\n', '.env': 'TOKEN=secret\n', 'secrets/db.txt': 'password\n', '.prolongignore': 'private.txt\n',
    'private.txt': 'p\n', 'src/a.ts': 'export {};\n', 'package-lock.json': '{}\n',
  });
  symlinkSync('.env', join(root, 'env.example'));
  symlinkSync('secrets/db.txt', join(root, 'db.conf'));
  symlinkSync('private.txt', join(root, 'private-link.txt'));
  symlinkSync('package-lock.json', join(root, 'lock-link.json'));
  symlinkSync('src/a.ts', join(root, 'alias.ts'));
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env });
  const reasons = Object.fromEntries(result.skipped.map((s) => [s.path, s.reason]));
  assert.equal(reasons['env.example'], 'symlink to .env, which is not packed (ignored by git)');
  assert.equal(reasons['db.conf'], 'symlink to secrets/db.txt, which is not packed (ignored by git)');
  assert.equal(reasons['private-link.txt'], 'symlink to private.txt, which is not packed (excluded by .prolongignore)');
  assert.equal(reasons['lock-link.json'], 'symlink to package-lock.json, which is not packed (lockfile)');
  assert.deepEqual(result.candidates.map((c) => c.path), ['.gitignore', '.prolongignore', 'alias.ts', 'src/a.ts']);
});

test('tracked files inside a directory skipped on purpose are not reported missing', () => {
  const { root, home, env } = repositoryWith({
    '.prolongignore': 'docs/\n', 'docs/a.md': 'a', 'vendor/lib/x.go': 'x', 'nested/inner.txt': 'i', 'kept.txt': 'k',
  }, ['docs/a.md', 'vendor/lib/x.go', 'nested/inner.txt', 'kept.txt']);
  git(join(root, 'nested'), home, 'init', '-q'); // a nested repository created after its files were tracked
  rmSync(join(root, 'kept.txt')); // really missing: still reported
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env });
  assert.deepEqual(result.skipped, [
    { path: 'docs/', reason: 'excluded by .prolongignore' },
    { path: 'kept.txt', reason: 'tracked by git but missing from the working tree' },
    { path: 'nested/', reason: 'nested git repository' },
    { path: 'vendor/', reason: 'vendored' },
  ]);
});

test('a file name that is not valid UTF-8 is reported as such', (t) => {
  const { root, env } = repositoryWith({ 'ok.txt': 'o' });
  try {
    writeFileSync(Buffer.concat([Buffer.from(join(root, 'lat')), Buffer.from([0xe9]), Buffer.from('.txt')]), 'x');
    mkdirSync(Buffer.concat([Buffer.from(join(root, 'dir')), Buffer.from([0xff])]));
  } catch {
    t.skip('this file system refuses names that are not UTF-8');
    return;
  }
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env });
  assert.deepEqual(result.skipped, [
    { path: 'dir\ufffd/', reason: 'file name is not valid UTF-8; rename it' },
    { path: 'lat\ufffd.txt', reason: 'file name is not valid UTF-8; rename it' },
  ]);
  assert.deepEqual(result.candidates.map((c) => c.path), ['ok.txt']);
});

test('a split index (core.splitIndex) reads the same as a whole one', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`d${i % 5}/f${i}.txt`] = `${i}\n`;
  const { root, home, env } = repositoryWith(files, ['.']);
  git(root, home, 'commit', '-qm', 'base');
  git(root, home, 'config', 'splitIndex.maxPercentChange', '100'); // keep the split: no rewrite of the shared index
  git(root, home, 'update-index', '--split-index');
  // changes land in the split index: replaced, deleted and added entries over the shared one
  writeTree(root, { 'd1/f1.txt': 'changed\n', 'd2/f7.txt': 'changed\n', 'new.txt': 'n\n' });
  git(root, home, 'update-index', 'd1/f1.txt', 'd2/f7.txt');
  git(root, home, 'update-index', '--chmod=+x', 'd3/f3.txt');
  git(root, home, 'rm', '-q', '--cached', 'd4/f4.txt', 'd0/f10.txt');
  git(root, home, 'add', 'new.txt');
  rmSync(join(root, 'd4/f4.txt'));
  rmSync(join(root, 'd0/f10.txt'));
  assert.ok(readdirSync(join(root, '.git')).some((name) => name.startsWith('sharedindex.')), 'the index is split');
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env });
  assert.deepEqual(listed(result), gitListFiles(root, home));
  assert.deepEqual(result.skipped, [], 'no entry reported missing, none with an empty path');
});

test('a SHA-256 repository\'s index reads as git lists it (32-byte object hashes in every entry)', () => {
  const home = tempDir('prolong-home-');
  const root = tempDir();
  git(root, home, 'init', '-q', '--object-format=sha256');
  writeTree(root, { '.gitignore': '*.log\n', 'a.txt': 'a', 'dir/b.txt': 'b', 'forced.log': 'kept: tracked', 'other.log': 'ignored' });
  git(root, home, 'add', '.gitignore', 'a.txt', 'dir/b.txt');
  git(root, home, 'add', '-f', 'forced.log');
  const result = walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: { home, xdgConfigHome: join(home, '.config') } });
  assert.deepEqual(listed(result), gitListFiles(root, home));
  assert.deepEqual(result.skipped, [], 'no entry read from the wrong offset');
});

test('a corrupt git index is a UserError naming the file and what to do', () => {
  const { root, env } = repositoryWith({ 'a.txt': 'a' }, ['a.txt']);
  writeFileSync(join(root, '.git', 'index'), 'garbage\n');
  assert.throws(() => walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env }),
    (error: unknown) => error instanceof UserError && error.message.includes(join(root, '.git', 'index')) && /git status/.test(error.hint ?? ''));
  const truncated = repositoryWith({ 'a.txt': 'a', 'b.txt': 'b' }, ['a.txt', 'b.txt']);
  const index = join(truncated.root, '.git', 'index');
  writeFileSync(index, readFileSync(index).subarray(0, 80));
  assert.throws(() => walkRepository({ root: truncated.root, maxFileBytes: 1 << 20, gitEnvironment: truncated.env }), /Cannot read the git index .*truncated/);
});

test('a .gitignore that is a symlink is not read, as git refuses it', () => {
  const { root, home, env } = repositoryWith({ 'rules': '*.txt\n', 'a.txt': 'a', 'b.md': 'b' });
  symlinkSync('rules', join(root, '.gitignore'));
  const expected = gitListFiles(root, home);
  assert.ok(expected.includes('a.txt'));
  assert.deepEqual(listed(walkRepository({ root, maxFileBytes: 1 << 20, gitEnvironment: env })), expected);
});

test('an empty XDG_CONFIG_HOME means ~/.config, as in git', () => {
  const saved = process.env.XDG_CONFIG_HOME;
  process.env.XDG_CONFIG_HOME = '';
  try {
    assert.equal(globalExcludesFile(undefined, { home: '/home/someone' }), join('/home/someone', '.config', 'git', 'ignore'));
    assert.equal(globalExcludesFile(undefined, { home: '/home/someone', xdgConfigHome: '' }), join('/home/someone', '.config', 'git', 'ignore'));
  } finally {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
  }
});
