/**
 * Runs extension tests inside a real VS Code extension host: the VS Code server that code-server carries, driven
 * by a headless Chromium (playwright-core, Debian's chromium). The workbench loads the extension under development
 * and the tests module (which exports `run()`), and reports the exit code through `window.codeAutomationExit`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Frame, type Page } from 'playwright-core';
import { UI_ENV, type UiRequest, type UiResponse } from './uiProtocol';

export const HOST_DIR = resolve(__dirname, '..', '..', '.vscode-test');
const SERVER_MAIN = join(HOST_DIR, 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
const NODE = join(HOST_DIR, 'node', 'bin', 'node');

/** Why the host cannot run here, or undefined when it can. */
export function hostUnavailable(): string | undefined {
  if (!existsSync(SERVER_MAIN) || !existsSync(NODE)) return `no VS Code host in ${HOST_DIR}: run test/host/setup.sh`;
  if (!existsSync('/usr/bin/chromium')) return 'no /usr/bin/chromium: run test/host/setup.sh';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForServer(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the VS Code server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/version`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the VS Code server did not answer on port ${port} within ${timeoutMs} ms`);
}

export interface HostRun {
  code: number;
  /** What the tests printed (console lines from the extension host). */
  output: string[];
}

/**
 * Where the host's folders go: the temporary folder, unless it is so deep (test/run.mjs nests one per test process)
 * that the Unix sockets made under it (Chromium's SingletonSocket, VS Code's IPC sockets) would pass the 107-byte
 * path limit; then /tmp itself. Both folders are removed when the run ends.
 */
function socketSafeTmp(): string {
  return tmpdir().length > 32 ? '/tmp' : tmpdir();
}

export async function runInExtensionHost(options: { extensionPath: string; testsPath: string; workspace: string; timeoutMs: number }): Promise<HostRun> {
  const port = await freePort();
  const data = mkdtempSync(join(socketSafeTmp(), 'prolong-host-'));
  // The server's and the browser's own temporary files go under `data` and `browserDir`, removed below.
  mkdirSync(join(data, 'tmp'));
  let page: Page | undefined;
  const ui = await startUiServer(() => page);
  const server = spawn(NODE, [SERVER_MAIN, '--enable-smoke-test-driver', '--without-connection-token', '--accept-server-license-terms',
    '--host', '127.0.0.1', '--port', String(port), '--server-data-dir', data, '--user-data-dir', join(data, 'user'),
    '--extensions-dir', join(data, 'extensions'), '--disable-telemetry'], {
    detached: true, // its own process group, so the whole tree can be stopped
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: join(data, 'tmp'), XDG_DATA_HOME: join(data, 'xdg-data'), XDG_CONFIG_HOME: join(data, 'xdg-config'), [UI_ENV]: ui.address },
  });
  const serverLog: string[] = [];
  server.stdout!.on('data', (chunk: Buffer) => serverLog.push(chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => serverLog.push(chunk.toString()));
  const browserDir = mkdtempSync(join(socketSafeTmp(), 'prolong-chromium-'));
  let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
  try {
    await waitForServer(port, server, 60_000);
    context = await chromium.launchPersistentContext(browserDir, {
      executablePath: '/usr/bin/chromium', headless: true, env: { ...process.env, TMPDIR: join(data, 'tmp') },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    const output: string[] = [];
    let resolveExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
    // Bound before the workbench loads, so its exit call can never miss it.
    await page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    page.on('console', (message) => {
      const text = message.text();
      if (text.includes('[prolong-host]')) output.push(text.slice(text.indexOf('[prolong-host]') + 15));
    });
    const remote = (path: string): string => `vscode-remote://127.0.0.1:${port}${path}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(options.extensionPath)], ['extensionTestsPath', remote(options.testsPath)]]);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.workspace)}&payload=${encodeURIComponent(payload)}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the extension-host tests did not finish within ${options.timeoutMs} ms; output so far:\n${output.join('\n')}\nserver log:\n${serverLog.join('').slice(-4000)}`)), options.timeoutMs);
    });
    try {
      const code = await Promise.race([exited, timeout]);
      return { code, output };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    ui.server.close();
    await context?.close().catch(() => undefined);
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(data, { recursive: true, force: true });
    rmSync(browserDir, { recursive: true, force: true });
  }
}

/** Serves the in-host tests' browser-level actions (uiProtocol.ts) on a free local port. */
async function startUiServer(page: () => Page | undefined): Promise<{ server: Server; address: string }> {
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    request.on('end', () => {
      const reply = (result: UiResponse) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(result));
      };
      const current = page();
      if (!current) { reply({ ok: false, error: 'the workbench page is not open yet' }); return; }
      let parsed: UiRequest;
      try {
        parsed = JSON.parse(body) as UiRequest;
      } catch {
        reply({ ok: false, error: 'the request is not JSON' });
        return;
      }
      performUi(current, parsed).then(reply, (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }));
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the UI server has no port');
  return { server, address: `http://127.0.0.1:${address.port}` };
}

async function performUi(page: Page, request: UiRequest): Promise<UiResponse> {
  const timeout = request.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeout;
  const frame = await findFrame(page, request.frame, request.action === 'count' ? Date.now() : deadline);
  if (!frame) {
    if (request.action === 'count') return { ok: true, count: 0 };
    return { ok: false, error: `no frame has a match for ${request.frame} after ${timeout} ms` };
  }
  const target = frame.locator(request.selector).first();
  switch (request.action) {
    case 'click':
      await target.click({ timeout });
      return { ok: true };
    case 'fill':
      await target.fill(request.value, { timeout });
      return { ok: true };
    case 'press':
      await target.press(request.key, { timeout });
      return { ok: true };
    case 'text':
      return { ok: true, text: (await target.textContent({ timeout })) ?? '' };
    case 'value':
      return { ok: true, text: await target.inputValue({ timeout }) };
    case 'count':
      return { ok: true, count: await frame.locator(request.selector).count() };
    case 'screenshot':
      if (request.element) await page.locator(request.selector).first().screenshot({ path: request.path, timeout });
      else await page.screenshot({ path: request.path });
      return { ok: true };
    case 'style': {
      const properties = request.properties;
      const values = await target.evaluate((element, names) => {
        const style = getComputedStyle(element);
        return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
      }, properties, { timeout });
      return { ok: true, text: JSON.stringify(values) };
    }
    case 'scroll': {
      const top = request.top;
      const geometry = await target.evaluate((element, to) => {
        if (to !== undefined) element.scrollTop = to;
        const { scrollTop, scrollHeight, clientHeight, clientWidth, scrollWidth } = element;
        return { scrollTop, scrollHeight, clientHeight, clientWidth, scrollWidth, width: element.getBoundingClientRect().width };
      }, top, { timeout });
      return { ok: true, text: JSON.stringify(geometry) };
    }
    case 'focus':
      await target.focus({ timeout });
      return { ok: true };
    case 'waitForText': {
      let last = '';
      while (Date.now() < deadline) {
        last = (await target.textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null)) ?? last;
        if (last.includes(request.text)) return { ok: true, text: last };
        await new Promise((r) => setTimeout(r, 100));
      }
      return { ok: false, error: `${request.selector} did not show "${request.text}" within ${timeout} ms; it shows: ${JSON.stringify(last.slice(0, 2000))}` };
    }
  }
}

/** The first frame (any depth) with a match for `selector`, polling until `deadline`; the page's main frame without one. */
async function findFrame(page: Page, selector: string | undefined, deadline: number): Promise<Frame | undefined> {
  if (!selector) return page.mainFrame();
  for (;;) {
    for (const frame of page.frames()) {
      if (await frame.locator(selector).count().catch(() => 0) > 0) return frame;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
