// A Hugging Face Hub on 127.0.0.1 speaking the wire format @huggingface/hub and the downloader use: model info
// (sha, siblings with LFS sha256/size), the tree API, resolve/REVISION/FILE with X-Repo-Commit and, for LFS files,
// a redirect to a second "CDN" host that honours Range. Faults are switched on per test.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FixtureFile { path: string; bytes: Buffer; lfs: boolean; sha256: string; gitOid: string }

export interface Faults {
  /** Repositories answering 401 without `Authorization: Bearer <token>`. */
  gated?: { repo: string; token: string };
  /** Answer 429 this many times (on any API or file request) before serving. */
  rateLimit?: number;
  /** Cut the connection after this many bytes, once, for this file. */
  cut?: { path: string; afterBytes: number };
  /** Send this many bytes of this file, then hold the connection open (a stalled download, to cancel). */
  stall?: { path: string; afterBytes: number };
  /** Serve these bytes instead of the real ones for this file (its metadata keeps the true sha256). */
  corrupt?: string;
}

export class FixtureHub {
  readonly requests: { method: string; url: string; range?: string; auth?: string }[] = [];
  readonly repos = new Map<string, { commit: string; files: FixtureFile[] }>();
  faults: Faults = {};
  private hub!: Server;
  private cdn!: Server;
  endpoint = '';
  private cdnUrl = '';

  /** Adds a repository with every file of `dir` (safetensors as LFS). */
  addRepo(repo: string, dir: string, extra: Record<string, string> = {}): string {
    const files: FixtureFile[] = readdirSync(dir).sort().map((name) => this.file(name, readFileSync(join(dir, name))));
    for (const [name, text] of Object.entries(extra)) files.push(this.file(name, Buffer.from(text)));
    const commit = createHash('sha1').update(repo + files.map((f) => f.sha256).join()).digest('hex');
    this.repos.set(repo, { commit, files });
    return commit;
  }

  private file(path: string, bytes: Buffer): FixtureFile {
    const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    return { path, bytes, lfs: path.endsWith('.safetensors'), sha256: createHash('sha256').update(bytes).digest('hex'), gitOid };
  }

  async start(): Promise<void> {
    this.cdn = createServer((req, res) => this.serveCdn(req, res));
    this.hub = createServer((req, res) => this.serveHub(req, res));
    for (const server of [this.cdn, this.hub]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const server of [this.hub, this.cdn]) { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)); }
  }

  private record(req: IncomingMessage): void {
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range, auth: req.headers.authorization });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private serveHub(req: IncomingMessage, res: ServerResponse): void {
    this.record(req);
    const url = new URL(req.url ?? '/', this.endpoint);
    if (this.faults.rateLimit) { this.faults.rateLimit--; res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }); res.end('{"error":"rate limited"}'); return; }
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const name = decodeURIComponent((api ?? resolve)?.[1] ?? '');
    const repo = this.repos.get(name);
    if (!repo) { this.json(res, 404, { error: 'Repository not found' }); return; }
    const gated = this.faults.gated;
    if (gated?.repo === name && req.headers.authorization !== `Bearer ${gated.token}`) {
      this.json(res, 401, { error: `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.` });
      return;
    }
    if (api?.[2] === 'revision') {
      this.json(res, 200, {
        _id: 'fixture', id: name, private: false, gated: gated?.repo === name ? 'manual' : false, sha: repo.commit, downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z',
        siblings: repo.files.map((f) => ({ rfilename: f.path, size: f.bytes.length, ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}) })),
      });
      return;
    }
    if (api?.[2] === 'tree') {
      this.json(res, 200, repo.files.map((f) => ({
        type: 'file', path: f.path, size: f.bytes.length, oid: f.gitOid, ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}),
      })));
      return;
    }
    const file = repo.files.find((f) => f.path === decodeURIComponent(resolve![3]!));
    if (!file) { this.json(res, 404, { error: 'Entry not found' }); return; }
    const headers = { 'x-repo-commit': repo.commit, etag: `"${file.lfs ? file.sha256 : file.gitOid}"` };
    if (file.lfs) {
      res.writeHead(302, { ...headers, location: `${this.cdnUrl}/blobs/${encodeURIComponent(name)}/${file.path}`, 'x-linked-size': String(file.bytes.length), 'x-linked-etag': `"${file.sha256}"` });
      res.end();
      return;
    }
    this.sendBytes(req, res, file, headers);
  }

  private serveCdn(req: IncomingMessage, res: ServerResponse): void {
    this.record(req);
    const match = /^\/blobs\/([^/]+)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const file = this.repos.get(decodeURIComponent(match?.[1] ?? ''))?.files.find((f) => f.path === match?.[2]);
    if (!file) { res.writeHead(404); res.end(); return; }
    this.sendBytes(req, res, file, {});
  }

  private sendBytes(req: IncomingMessage, res: ServerResponse, file: FixtureFile, headers: Record<string, string>): void {
    const bytes = this.faults.corrupt === file.path ? Buffer.from(file.bytes.map((b) => b ^ 0xff)) : file.bytes;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const body = bytes.subarray(start);
    const status = range ? 206 : 200;
    res.writeHead(status, { ...headers, 'content-length': String(body.length), ...(range ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}) });
    if (req.method === 'HEAD') { res.end(); return; }
    const stall = this.faults.stall;
    if (stall?.path === file.path && start < stall.afterBytes) { res.write(body.subarray(0, stall.afterBytes - start)); return; }
    const cut = this.faults.cut;
    if (cut?.path === file.path && start < cut.afterBytes) {
      this.faults.cut = undefined;
      res.write(body.subarray(0, cut.afterBytes - start), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  }
}
