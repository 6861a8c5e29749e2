// The Hub download against a fixture Hub on 127.0.0.1: the HF cache layout, reuse, resume, retries, and every
// fault a user meets, each with what the user sees and that nothing already downloaded is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../engine/errors';
import { hubSettings, listCachedCheckpoints, pullCheckpoint, type HubSettings } from '../../engine/models/hub';
import { randomShapes, writeRandomCheckpoint } from '../../kernels/randomCheckpoint';
import { FixtureHub } from './fixtureHub';

const work = mkdtempSync(join(tmpdir(), 'models-hub-'));
const checkpoint = join(work, 'checkpoint');
writeRandomCheckpoint(checkpoint, randomShapes.tiny, 5, { shardBytes: 200_000 });
const hub = new FixtureHub();
const repo = 'fixture-org/tiny-llama';
const commit = hub.addRepo(repo, checkpoint, { 'README.md': '# tiny', 'pytorch_model.bin': 'not wanted' });
test.before(() => hub.start());
test.after(async () => { await hub.stop(); rmSync(work, { recursive: true, force: true }); });

let caches = 0;
function settings(extra: Partial<HubSettings> = {}): HubSettings {
  return { endpoint: hub.endpoint, cacheDir: join(work, `cache-${++caches}`), offline: false, ...extra };
}
const fileRequests = () => hub.requests.filter((r) => r.url.includes('/resolve/') || r.url.startsWith('/blobs/'));
const shards = readdirSync(checkpoint).filter((f) => f.endsWith('.safetensors'));

test('a pull writes the HF cache layout Python uses, only the converter\'s files, and a second pull downloads nothing', async () => {
  assert.ok(shards.length >= 2, 'the fixture checkpoint is sharded');
  const s = settings();
  hub.requests.length = 0;
  const progress: number[] = [];
  const pulled = await pullCheckpoint({ repo, settings: s, onProgress: (p) => progress.push(p.doneBytes) });
  const root = join(s.cacheDir, 'models--fixture-org--tiny-llama');
  assert.equal(pulled.commit, commit);
  assert.equal(pulled.dir, join(root, 'snapshots', commit));
  assert.equal(readFileSync(join(root, 'refs', 'main'), 'utf8'), commit);
  assert.deepEqual(readdirSync(pulled.dir).sort(), readdirSync(checkpoint).sort());
  for (const name of readdirSync(checkpoint)) {
    const link = join(pulled.dir, name);
    assert.ok(lstatSync(link).isSymbolicLink());
    const file = hub.repos.get(repo)!.files.find((f) => f.path === name)!;
    assert.equal(readlinkSync(link), join('..', '..', 'blobs', file.lfs ? file.sha256 : file.gitOid));
    assert.deepEqual(readFileSync(link), readFileSync(join(checkpoint, name)));
  }
  const total = readdirSync(checkpoint).reduce((n, f) => n + readFileSync(join(checkpoint, f)).length, 0);
  assert.equal(pulled.downloadedBytes, total);
  assert.equal(progress.at(-1), total);
  assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
  assert.ok(!fileRequests().some((r) => r.url.includes('README') || r.url.includes('pytorch_model')));
  assert.ok(fileRequests().some((r) => r.url.startsWith('/blobs/')), 'LFS files come from the redirect host');
  hub.requests.length = 0;
  const again = await pullCheckpoint({ repo, settings: s });
  assert.equal(again.downloadedBytes, 0);
  assert.equal(fileRequests().length, 0);
  assert.deepEqual(listCachedCheckpoints(s.cacheDir).map((c) => [c.repo, c.commit, c.refs]), [[repo, commit, ['main']]]);
});

test('a connection cut mid-file resumes with a Range request from the bytes kept', async () => {
  const s = settings();
  hub.faults = { cut: { path: shards[1]!, afterBytes: 50_000 } };
  hub.requests.length = 0;
  const pulled = await pullCheckpoint({ repo, settings: s, retryDelayMs: 1 });
  assert.deepEqual(readFileSync(join(pulled.dir, shards[1]!)), readFileSync(join(checkpoint, shards[1]!)));
  assert.ok(hub.requests.some((r) => r.url.includes(shards[1]!) && r.range === 'bytes=50000-'), JSON.stringify(hub.requests.map((r) => r.range)));
  const size = readFileSync(join(checkpoint, shards[1]!)).length;
  assert.equal(pulled.reusedBytes, 0);
  assert.ok(pulled.downloadedBytes < readdirSync(checkpoint).reduce((n, f) => n + readFileSync(join(checkpoint, f)).length, 0) + size, 'the cut part is not fetched twice');
});

test('a partial blob from an earlier run is continued, not restarted', async () => {
  const s = settings();
  const file = hub.repos.get(repo)!.files.find((f) => f.path === shards[0])!;
  const blobs = join(s.cacheDir, 'models--fixture-org--tiny-llama', 'blobs');
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(blobs, `${file.sha256}.incomplete`), file.bytes.subarray(0, 12345));
  hub.faults = {};
  hub.requests.length = 0;
  const pulled = await pullCheckpoint({ repo, settings: s });
  assert.equal(pulled.reusedBytes, 12345);
  assert.ok(hub.requests.some((r) => r.range === 'bytes=12345-'));
  assert.deepEqual(readFileSync(join(pulled.dir, shards[0]!)), file.bytes);
});

test('429 answers are retried with backoff, then the pull succeeds', async () => {
  hub.faults = { rateLimit: 3 };
  const pulled = await pullCheckpoint({ repo, settings: settings(), retryDelayMs: 1 });
  assert.equal(pulled.commit, commit);
  assert.equal(hub.faults.rateLimit, 0);
  hub.faults = { rateLimit: 10 };
  await assert.rejects(pullCheckpoint({ repo, settings: settings(), retryDelayMs: 1, retries: 2 }),
    (e: unknown) => e instanceof UserError && /kept failing .*429/.test(e.message) && /resumes/.test(e.hint ?? ''));
  hub.faults = {};
});

test('a gated repository without a token says to accept the license at the model page and set a token; with HF_TOKEN it downloads', async () => {
  hub.faults = { gated: { repo, token: 'hf_fixturetoken' } };
  const s = settings();
  await assert.rejects(pullCheckpoint({ repo, settings: s }), (e: unknown) => e instanceof UserError &&
    e.message === `${repo} is gated or private (HTTP 401).` && e.hint === `Accept the license at ${hub.endpoint}/${repo} and set a token (ProLong: Set Hugging Face Token, or HF_TOKEN).`);
  assert.ok(!existsSync(join(s.cacheDir, 'models--fixture-org--tiny-llama', 'snapshots')));
  await assert.rejects(pullCheckpoint({ repo, settings: { ...s, token: 'hf_wrong', tokenSource: 'HF_TOKEN' } }), (e: unknown) => e instanceof UserError && /token from HF_TOKEN has no access/.test(e.message));
  const withToken = { ...hubSettings({ HF_TOKEN: 'hf_fixturetoken', HF_ENDPOINT: hub.endpoint + '/', HF_HUB_CACHE: s.cacheDir }) };
  assert.equal(withToken.endpoint, hub.endpoint);
  const pulled = await pullCheckpoint({ repo, settings: withToken });
  assert.equal(pulled.commit, commit);
  hub.faults = {};
});

test('404 for a repository or revision, a refused connection, an unknown host: one line each with what to do', async () => {
  await assert.rejects(pullCheckpoint({ repo: 'fixture-org/missing', settings: settings() }),
    (e: unknown) => e instanceof UserError && e.message.startsWith('fixture-org/missing was not found on') && e.hint === `Check the name and revision at ${hub.endpoint}/fixture-org/missing.`);
  await assert.rejects(pullCheckpoint({ repo: 'not a repo', settings: settings() }), (e: unknown) => e instanceof UserError && /not a Hugging Face model id/.test(e.message));
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(pullCheckpoint({ repo, settings: settings({ endpoint: `http://127.0.0.1:${port}` }) }),
    (e: unknown) => e instanceof UserError && e.message === `http://127.0.0.1:${port} refused the connection.`);
  // a name that never resolves (RFC 2606's .invalid): no network or DNS, said in one line; without DNS at all the
  // resolver answers EAI_AGAIN instead, the same message
  await assert.rejects(pullCheckpoint({ repo, settings: settings({ endpoint: 'http://prolong-no-such-host.invalid' }) }),
    (e: unknown) => e instanceof UserError && /^Cannot resolve prolong-no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\): no network or DNS\.$/.test(e.message)
      && /HF_ENDPOINT/.test(e.hint ?? ''));
});

test('a file whose bytes do not match the Hub\'s sha256 is deleted and named; the files before it stay', async () => {
  hub.faults = { corrupt: shards[1]! };
  const s = settings();
  const bad = hub.repos.get(repo)!.files.find((f) => f.path === shards[1])!;
  await assert.rejects(pullCheckpoint({ repo, settings: s }), (e: unknown) => e instanceof UserError && e.message.startsWith(`${shards[1]} of ${repo} did not match the Hub's sha256`) && /deleted/.test(e.message));
  const blobs = join(s.cacheDir, 'models--fixture-org--tiny-llama', 'blobs');
  assert.ok(!readdirSync(blobs).some((b) => b.startsWith(bad.sha256)));
  const good = hub.repos.get(repo)!.files.find((f) => f.path === shards[0])!;
  assert.ok(existsSync(join(blobs, good.sha256)), 'the verified shard is kept');
  assert.deepEqual(listCachedCheckpoints(s.cacheDir), [], 'an incomplete snapshot is not listed');
  hub.faults = {};
  hub.requests.length = 0;
  await pullCheckpoint({ repo, settings: s });
  assert.ok(!fileRequests().some((r) => r.url.includes(shards[0]!)), 'the good shard is not downloaded again');
});

test('an architecture the converter cannot read is named from config.json before any weight is downloaded', async () => {
  const gpt2 = join(work, 'gpt2');
  writeRandomCheckpoint(gpt2, randomShapes.tiny, 1);
  const config = JSON.parse(readFileSync(join(gpt2, 'config.json'), 'utf8'));
  writeFileSync(join(gpt2, 'config.json'), JSON.stringify({ ...config, architectures: ['GPT2LMHeadModel'] }));
  hub.addRepo('fixture-org/gpt2', gpt2);
  hub.requests.length = 0;
  await assert.rejects(pullCheckpoint({ repo: 'fixture-org/gpt2', settings: settings() }), (e: unknown) => e instanceof UserError && /"architectures" is \["GPT2LMHeadModel"\]/.test(e.message));
  assert.ok(!fileRequests().some((r) => r.url.includes('.safetensors')));
});

test('HF_HUB_OFFLINE uses the cache without a request, and says so when the model is not there', async () => {
  const s = settings();
  await pullCheckpoint({ repo, settings: s });
  hub.requests.length = 0;
  const offline = await pullCheckpoint({ repo, settings: { ...s, offline: true } });
  assert.equal(offline.commit, commit);
  assert.equal(hub.requests.length, 0);
  await assert.rejects(pullCheckpoint({ repo: 'fixture-org/other', settings: { ...s, offline: true } }), (e: unknown) => e instanceof UserError && /HF_HUB_OFFLINE is set/.test(e.message));
});

test('hubSettings reads HF_HOME, HF_HUB_CACHE, the token file and HF_HUB_OFFLINE as huggingface_hub does', () => {
  const home = join(work, 'hf-home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'token'), 'hf_fromfile\n');
  const a = hubSettings({ HF_HOME: home, HF_HUB_OFFLINE: '1' });
  assert.deepEqual(a, { endpoint: 'https://huggingface.co', cacheDir: join(home, 'hub'), token: 'hf_fromfile', tokenSource: join(home, 'token'), offline: true });
  const b = hubSettings({ HF_HOME: home, HF_HUB_CACHE: join(work, 'elsewhere'), HF_TOKEN: 'hf_env' });
  assert.deepEqual([b.cacheDir, b.token, b.tokenSource, b.offline], [join(work, 'elsewhere'), 'hf_env', 'HF_TOKEN', false]);
  const c = hubSettings({ XDG_CACHE_HOME: join(work, 'xdg') });
  assert.equal(c.cacheDir, join(work, 'xdg', 'huggingface', 'hub'));
  assert.equal(c.token, undefined);
});

test('a checkpoint placed by hand in the HF cache layout (as Python leaves it) is listed', () => {
  const cache = join(work, 'hand-cache');
  const root = join(cache, 'models--hand-org--hand-model');
  const snap = join(root, 'snapshots', 'a'.repeat(40));
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(root, 'blobs'));
  mkdirSync(join(root, 'refs'));
  writeFileSync(join(root, 'refs', 'main'), 'a'.repeat(40));
  for (const name of readdirSync(checkpoint)) {
    copyFileSync(join(checkpoint, name), join(root, 'blobs', `blob-${name}`));
    symlinkSync(join('..', '..', 'blobs', `blob-${name}`), join(snap, name));
  }
  mkdirSync(join(cache, 'models--half-org--half', 'snapshots', 'b'.repeat(40)), { recursive: true });
  const listed = listCachedCheckpoints(cache);
  assert.deepEqual(listed.map((c) => [c.repo, c.refs, c.dir]), [['hand-org/hand-model', ['main'], snap]]);
  assert.equal(listed[0]!.bytes, readdirSync(checkpoint).reduce((n, f) => n + readFileSync(join(checkpoint, f)).length, 0));
});

test('fetchConfig reads config.json from the Hub before a download, and from the cache when the model is there', async () => {
  const { fetchConfig } = await import('../../engine/models/hub');
  const s = settings();
  hub.requests.length = 0;
  const config = await fetchConfig(repo, s);
  assert.deepEqual(config, JSON.parse(readFileSync(join(checkpoint, 'config.json'), 'utf8')));
  assert.deepEqual(hub.requests.map((r) => r.url), [`/${repo}/resolve/main/config.json`]);
  await assert.rejects(fetchConfig('fixture-org/none', s), (e: unknown) => e instanceof UserError && /not found/.test(e.message));
  await pullCheckpoint({ repo, settings: s });
  hub.requests.length = 0;
  assert.deepEqual(await fetchConfig(repo, { ...s, offline: true }), config);
  assert.equal(hub.requests.length, 0);
});

test('the disk space check names the size needed and the cache folder before anything is written', async () => {
  const { checkDiskSpace } = await import('../../engine/models/hub');
  const cacheDir = join(work, 'not-created-yet', 'hub');
  assert.throws(() => checkDiskSpace(cacheDir, 1e18, repo), (e: unknown) => e instanceof UserError &&
    e.message.startsWith(`${repo} needs 1000000000.00 GB more in the Hugging Face cache ${cacheDir}, but its disk has`) && /HF_HUB_CACHE/.test(e.hint ?? ''));
  checkDiskSpace(cacheDir, 1, repo);
  assert.ok(!existsSync(cacheDir));
});

test('a disk that fills up mid-download is named with its folder; the partial file stays for the resume', async (t) => {
  if (!existsSync('/dev/full')) { t.skip('no /dev/full on this system'); return; }
  const s = settings();
  const shard = hub.repos.get(repo)!.files.find((f) => f.lfs)!;
  const blobs = join(s.cacheDir, `models--${repo.replace('/', '--')}`, 'blobs');
  mkdirSync(blobs, { recursive: true });
  // writes into /dev/full fail with ENOSPC, as on a full disk
  symlinkSync('/dev/full', join(blobs, `${shard.sha256}.incomplete`));
  await assert.rejects(pullCheckpoint({ repo, settings: s }), (e: unknown) => e instanceof UserError
    && e.message.startsWith(`The disk under ${s.cacheDir} filled up after`) && e.message.includes(`of ${shard.path} (ENOSPC); the partial file is kept.`)
    && /resumes where it stopped/.test(e.hint ?? ''));
  assert.ok(lstatSync(join(blobs, `${shard.sha256}.incomplete`)).isSymbolicLink(), 'the partial file was not deleted');
});
