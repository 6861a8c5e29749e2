// Client-side costs of the remote backend, printed as numbers (not a test): SSE decoding speed, and loopback time to
// first token for a small and a 512K-token-sized prompt against the fixture server.
// Run: node --import tsx test/remote/bench.ts (npm run bench:remote)
import { SseDecoder } from '../../engine/backends/remote/sse';
import { RemoteBackend } from '../../engine/backends/remote/remoteBackend';
import { CLI_SETTINGS } from '../../engine/backends/remote/problems';
import { buildRepositoryPrompt } from '../../engine/backends/prompt';
import { BenchCli } from '../bench/cli';
import { startFixture, TEST_MODEL } from './fixtures/server';

new BenchCli('bench-remote', `usage: npm run bench:remote   (no options)
Times SSE decoding and loopback TTFT / whole request (10 KB and 2 MB prompts) against the vLLM fixture server.
`).parse({ options: {} });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function benchDecoder(): void {
  const event = `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: TEST_MODEL, choices: [{ index: 0, delta: { content: ' token' }, logprobs: null, finish_reason: null }] })}\n\n`;
  const count = 50_000;
  const bytes = new TextEncoder().encode(event.repeat(count));
  for (const chunkSize of [Buffer.byteLength(event), 16 * 1024]) {
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const decoder = new SseDecoder();
      const start = performance.now();
      let events = 0;
      for (let i = 0; i < bytes.length; i += chunkSize) events += decoder.push(bytes.subarray(i, i + chunkSize)).length;
      times.push(performance.now() - start);
      if (events !== count) throw new Error(`decoded ${events} events, expected ${count}`);
    }
    const ms = median(times);
    console.log(`sse decode: ${count} events, ${(bytes.length / 1e6).toFixed(1)} MB in ${chunkSize}-byte chunks: ${ms.toFixed(1)} ms `
      + `(${(bytes.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s, ${(ms * 1000 / count).toFixed(2)} µs/event)`);
  }
}

async function benchLoopback(): Promise<void> {
  const fixture = await startFixture({ flavor: 'vllm', contextLength: 600_000, answer: 'ok done' });
  try {
    const line = 'export function add(a: number, b: number): number { return a + b; }\n';
    for (const [label, bytes] of [['10 KB', 10_000], ['2 MB', 2_000_000]] as const) {
      const repository = line.repeat(Math.ceil(bytes / line.length));
      for (const check of [false, true]) {
        const backend = new RemoteBackend({ url: fixture.url, model: TEST_MODEL, settingNames: CLI_SETTINGS, checkContext: check });
        const ttft: number[] = [];
        const total: number[] = [];
        for (let run = 0; run < 5; run++) {
          const messages = buildRepositoryPrompt({ repository, question: `Question number ${run}?` });
          const result = await backend.generate({ messages, sampling: { maxTokens: 8 } }, () => {});
          ttft.push(result.timeToFirstTokenMs ?? NaN);
          total.push(result.totalMs);
        }
        console.log(`loopback vLLM fixture, ${label} repository, context pre-check ${check ? 'on ' : 'off'}: `
          + `time to first token ${median(ttft).toFixed(1)} ms, whole request ${median(total).toFixed(1)} ms (median of 5; includes the fixture's toy tokenizer)`);
      }
    }
  } finally {
    await fixture.close();
  }
}

benchDecoder();
void benchLoopback();
