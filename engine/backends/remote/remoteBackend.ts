/**
 * A Backend on an OpenAI-compatible server: vLLM, SGLang or llama.cpp's llama-server.
 * - Discovers the model and its context length (GET /v1/models; llama.cpp's /props for the context it runs with).
 * - Counts prompts exactly with the server's own tokenizer (vLLM/SGLang POST /tokenize with the chat messages;
 *   llama.cpp POST /apply-template then POST /tokenize), else locally with a note.
 * - Streams answers (stream: true, usage in the last chunk), keeps partial answers when the stream breaks,
 *   skips malformed stream lines with a warning, and stops a prompt that cannot fit before sending it.
 */
import { CancelledError, UserError } from '../../errors';
import type { Backend, BackendInfo, FinishReason, GenerateEvent, GenerateRequest, GenerateResult, PromptTokenCount } from '../types';
import { ServerClient, errorBodyOf, parseJson, preview, type ServerConnection } from './client';
import { ConnectionError, IdleTimeoutError, type HttpResponse } from './http';
import { LocalPrompt } from './localPrompt';
import { ContextTooLongError, connectionProblem, httpProblem, isContextLengthError } from './problems';
import { byteBound, splitAtQuestion } from './promptBound';
import { SseDecoder, type SseEvent } from './sse';
import {
  readAppliedTemplate, readLlamaCppContext, readModelList, readStreamChunk, readTokenizeResponse,
  type ServedModel, type ServerErrorBody, type StreamUsage,
} from './wire';

export interface RemoteBackendOptions extends ServerConnection {
  /** Model id as /v1/models lists it; empty: the server's only model. */
  model?: string;
  /** 'chat' (default): /v1/chat/completions with the server's chat template. 'completions': /v1/completions
   * with the prompt rendered here by the model's chat template (for servers without a usable template). */
  api?: 'chat' | 'completions';
  /** tokenizer.json for local counts and rendering; empty: the bundled Llama 3 tokenizer. */
  tokenizerPath?: string;
  /** Check the prompt against the server's context length before sending (default true). */
  checkContext?: boolean;
}

type PromptRequest = Omit<GenerateRequest, 'sampling'>;

export class RemoteBackend implements Backend {
  private readonly client: ServerClient;
  private readonly local: LocalPrompt;
  private served?: Promise<ServedModel>;
  /** Whether the server answered its tokenize endpoint (undefined: not tried yet). */
  private hasTokenize?: boolean;
  /** Why the server's count is not used, for the note on local counts. */
  private noTokenizeReason = 'has no tokenize endpoint';
  private readonly inFlight = new Set<AbortController>();
  /** The last exact count of a Q&A prompt, by the hash of everything but its question (see promptBound.ts). */
  private lastExactCount?: { key: string; tokens: number };

  constructor(private readonly options: RemoteBackendOptions) {
    this.client = new ServerClient(options);
    this.local = new LocalPrompt(options.tokenizerPath);
  }

  get serverLabel(): string {
    return this.client.label;
  }

  /** `listed`: what listModels already returned, so discovery need not ask /v1/models again (health checks). */
  async info(signal?: AbortSignal, listed?: ServedModel[]): Promise<BackendInfo> {
    const model = await this.model(signal, listed);
    const software = model.software === 'unknown' ? 'OpenAI-compatible server' : model.software;
    return { kind: 'remote', model: model.id, contextLength: model.contextLength, detail: `${software} at ${this.client.label}` };
  }

  /** Every model the server lists (for pickers and health checks). */
  async listModels(signal?: AbortSignal): Promise<ServedModel[]> {
    const answer = await this.client.json('GET', '/v1/models', undefined, { idempotent: true, signal });
    const models = readModelList(answer.body);
    if (!models) {
      throw new UserError(`${this.client.label}/v1/models did not answer with a model list.`,
        `Check that ${this.client.settingNames.url} points at an OpenAI-compatible server (vLLM, SGLang, llama-server).`);
    }
    return models;
  }

  /**
   * The served model, discovered once and shared. Discovery runs on its own controller (aborted only by dispose),
   * not on the first caller's signal: each caller waits for it under its own signal, so one caller cancelling
   * does not cancel the others. A failed discovery is forgotten, so the next call tries again.
   */
  private model(signal?: AbortSignal, listed?: ServedModel[]): Promise<ServedModel> {
    if (!this.served) {
      const controller = new AbortController();
      this.inFlight.add(controller);
      const served = this.discover(controller.signal, listed);
      this.served = served;
      served.then(
        () => { this.inFlight.delete(controller); },
        () => {
          this.inFlight.delete(controller);
          if (this.served === served) this.served = undefined;
        },
      );
    }
    return untilAborted(this.served, signal);
  }

  private async discover(signal: AbortSignal, listed?: ServedModel[]): Promise<ServedModel> {
    const models = listed ?? await this.listModels(signal);
    const wanted = this.options.model?.trim();
    const names = this.client.settingNames;
    let model: ServedModel | undefined;
    if (wanted) {
      model = models.find((m) => m.id === wanted);
      if (!model) {
        throw new UserError(`${this.client.label} does not serve the model "${wanted}"; it serves ${listNames(models)}.`,
          `Set ${names.model} to one of those.`);
      }
    } else if (models.length === 1) {
      model = models[0];
    } else {
      throw new UserError(`${this.client.label} serves ${models.length === 0 ? 'no models' : `${models.length} models: ${listNames(models)}`}.`,
        `Pick one with ${names.model}.`);
    }
    if (model.software === 'llama.cpp') {
      // n_ctx_train is what the model was trained for; the server may run with a smaller -c.
      const props = await this.client.json('GET', '/props', undefined, { idempotent: true, allow: [404, 501], signal });
      const running = props.status === 200 ? readLlamaCppContext(props.body) : undefined;
      if (running) model = { ...model, contextLength: running };
    }
    return model;
  }

  async countPromptTokens(request: PromptRequest, signal?: AbortSignal): Promise<PromptTokenCount> {
    const model = await this.model(signal);
    if (this.hasTokenize !== false) {
      const exact = model.software === 'llama.cpp'
        ? await this.countWithLlamaCpp(request, signal)
        : await this.countWithVllmStyle(model, request, signal);
      if (typeof exact === 'number') {
        this.hasTokenize = true;
        return { tokens: exact, exact: true };
      }
      // A server that counted earlier prompts and refused this one keeps counting the next ones.
      if (!(this.hasTokenize === true && exact === 'refused')) this.hasTokenize = false;
    }
    return {
      tokens: this.local.count(request),
      exact: false,
      note: `${this.client.label} ${this.noTokenizeReason}, so the prompt was counted with the local tokenizer (${this.local.source}) and its chat template; the server's count may differ slightly.`,
    };
  }

  /**
   * vLLM and SGLang: POST /tokenize with the same messages and template switches as the chat request. Undefined
   * when the server has no such endpoint; 'refused' when it has one that did not take this prompt.
   */
  private async countWithVllmStyle(model: ServedModel, request: PromptRequest, signal?: AbortSignal): Promise<number | 'refused' | undefined> {
    const body = this.options.api === 'completions'
      ? { model: model.id, prompt: this.local.renderWithoutBos(request) }
      : { model: model.id, messages: this.chatMessages(request), ...this.templateSwitches(request) };
    const answer = await this.client.json('POST', '/tokenize', body, { idempotent: true, model: model.id, allow: [400, 404, 405, 422, 501], signal });
    if (answer.status === 400 || answer.status === 422) {
      // Some servers (SGLang versions) refuse a `messages` body here: count locally. A too-long prompt is not that.
      const error = errorBodyOf(answer.body, '');
      if (isContextLengthError(error)) {
        if (error?.promptTokens !== undefined) return error.promptTokens;
        throw httpProblem(answer.status, error, this.client.endpoint('/tokenize'), model.id, this.client.settingNames);
      }
      this.noTokenizeReason = `did not accept the prompt at /tokenize (HTTP ${answer.status}${error ? `: ${preview(error.message, 80)}` : ''})`;
      return 'refused';
    }
    return answer.status === 200 ? readTokenizeResponse(answer.body)?.count : undefined;
  }

  /** llama.cpp: the server's own template (POST /apply-template), then POST /tokenize with BOS as the chat path adds it. */
  private async countWithLlamaCpp(request: PromptRequest, signal?: AbortSignal): Promise<number | undefined> {
    let prompt: string;
    if (this.options.api === 'completions') {
      prompt = this.local.renderWithoutBos(request);
    } else {
      const applied = await this.client.json('POST', '/apply-template', { messages: request.messages }, { idempotent: true, allow: [404, 501], signal });
      const text = applied.status === 200 ? readAppliedTemplate(applied.body) : undefined;
      if (text === undefined) return undefined;
      prompt = text + (request.assistantPrefix ?? '');
    }
    const answer = await this.client.json('POST', '/tokenize', { content: prompt, add_special: true, parse_special: true }, { idempotent: true, allow: [404, 501], signal });
    return answer.status === 200 ? readTokenizeResponse(answer.body)?.count : undefined;
  }

  private chatMessages(request: PromptRequest): { role: string; content: string }[] {
    const messages = request.messages.map((m) => ({ role: m.role, content: m.content }));
    if (request.assistantPrefix) messages.push({ role: 'assistant', content: request.assistantPrefix });
    return messages;
  }

  /** vLLM/SGLang continue a final assistant message only when told to; llama.cpp does so by itself. */
  private templateSwitches(request: PromptRequest): Record<string, boolean> {
    return request.assistantPrefix ? { add_generation_prompt: false, continue_final_message: true } : {};
  }

  async generate(request: GenerateRequest, onEvent: (event: GenerateEvent) => void, signal?: AbortSignal): Promise<GenerateResult> {
    const started = performance.now();
    const warnings: string[] = [];
    const warn = (message: string) => { warnings.push(message); onEvent({ type: 'warning', message }); };
    const controller = new AbortController();
    const combined = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
    this.inFlight.add(controller);
    try {
      const model = await this.model(combined);
      const count = await this.checkFits(model, request, warn, combined);
      const retries: string[] = [];
      const path = this.generatePath;
      const sent = performance.now();
      const response = await this.client.send('POST', path, this.requestBody(model, request), { idempotent: false, warnings: retries, signal: combined });
      retries.forEach(warn);
      if (response.status !== 200) {
        const text = await response.text().catch(() => '');
        const body = errorBodyOf(parseJson(text), text);
        if (response.status === 400 && isContextLengthError(body) && body?.promptTokens && body.contextTokens) {
          throw new ContextTooLongError(this.client.label, model.id, body.promptTokens, request.sampling.maxTokens, body.contextTokens, this.client.settingNames);
        }
        throw httpProblem(response.status, body, this.client.endpoint(path), model.id, this.client.settingNames);
      }
      const contentType = String(response.headers['content-type'] ?? '');
      let streamed: StreamOutcome;
      if (/application\/json/i.test(contentType)) streamed = await this.readWholeAnswer(response, sent, onEvent, warn);
      // Any other type is read as a stream (some proxies relabel one as text/plain); readStream says what came
      // when it holds no events at all (a login page, say).
      else streamed = await this.readStream(response.chunks(), contentType, sent, onEvent, warn);
      const usage = streamed.usage;
      return {
        text: streamed.text,
        finishReason: streamed.finishReason,
        promptTokens: usage?.promptTokens ?? count?.tokens ?? 0,
        completionTokens: usage?.completionTokens ?? streamed.pieces,
        cachedPromptTokens: usage?.cachedPromptTokens,
        timeToFirstTokenMs: streamed.timeToFirstTokenMs,
        totalMs: performance.now() - started,
        warnings,
      };
    } catch (error) {
      if (error instanceof CancelledError) {
        return { text: '', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, totalMs: performance.now() - started, warnings };
      }
      throw error;
    } finally {
      this.inFlight.delete(controller);
    }
  }

  /**
   * Stops a prompt that cannot fit before it is sent. Counts with the server only when no cheap bound settles it:
   * the prompt's bytes, or the last exact count of the same repository prompt plus the new question's bytes.
   */
  private async checkFits(model: ServedModel, request: GenerateRequest, warn: (m: string) => void, signal: AbortSignal): Promise<PromptTokenCount | undefined> {
    if (this.options.checkContext === false || !model.contextLength) return undefined;
    const room = model.contextLength - request.sampling.maxTokens;
    if (byteBound(request) <= room) return undefined;
    const split = splitAtQuestion(request);
    if (split && this.lastExactCount?.key === split.key && this.lastExactCount.tokens + split.questionBytes <= room) return undefined;
    const count = await this.countPromptTokens(request, signal);
    if (count.note) warn(count.note);
    if (split && count.exact) this.lastExactCount = { key: split.key, tokens: count.tokens };
    if (count.tokens > room) {
      throw new ContextTooLongError(this.client.label, model.id, count.tokens, request.sampling.maxTokens, model.contextLength, this.client.settingNames);
    }
    return count;
  }


  private get generatePath(): string {
    return this.options.api === 'completions' ? '/v1/completions' : '/v1/chat/completions';
  }

  private requestBody(model: ServedModel, request: GenerateRequest): Record<string, unknown> {
    const sampling = request.sampling;
    const llamaCpp = model.software === 'llama.cpp';
    // The prompt goes first so the request's bytes share the longest prefix with the previous one.
    const body: Record<string, unknown> = this.options.api === 'completions'
      ? { model: model.id, prompt: this.local.renderWithoutBos(request) }
      : { model: model.id, messages: this.chatMessages(request), ...(llamaCpp ? {} : this.templateSwitches(request)) };
    Object.assign(body, {
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: sampling.maxTokens,
      temperature: sampling.temperature ?? 0,
    });
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.topK !== undefined) body.top_k = sampling.topK;
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    if (sampling.stop?.length) body.stop = sampling.stop;
    if (sampling.repetitionPenalty !== undefined) body[llamaCpp ? 'repeat_penalty' : 'repetition_penalty'] = sampling.repetitionPenalty;
    // llama.cpp reuses its KV cache for the common prefix only with cache_prompt; vLLM/SGLang do it by themselves.
    if (llamaCpp) Object.assign(body, { cache_prompt: true, return_progress: true });
    return body;
  }

  /** Some proxies drop `stream: true` and answer with one JSON completion; take it whole rather than fail. */
  private async readWholeAnswer(response: HttpResponse, sent: number, onEvent: (event: GenerateEvent) => void, warn: (m: string) => void): Promise<StreamOutcome> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof IdleTimeoutError) throw connectionProblem(error, this.client.endpoint(this.generatePath), this.client.settingNames);
      throw error;
    }
    const answer = readStreamChunk(parseJson(text));
    if (!answer || answer.error) {
      throw new UserError(`${this.client.label} answered ${this.generatePath} with JSON that is not a completion: "${preview(text)}".`,
        `Check that ${this.client.settingNames.url} points at an OpenAI-compatible server.`);
    }
    warn(`${this.client.label} answered in one piece instead of streaming (a proxy may have dropped stream: true); time to first token is the whole answer's time.`);
    const out: StreamOutcome = { text: answer.text, finishReason: answer.finishReason === 'length' ? 'length' : 'stop', pieces: answer.text ? 1 : 0, usage: answer.usage };
    if (answer.text) {
      out.timeToFirstTokenMs = performance.now() - sent;
      onEvent({ type: 'first-token', timeToFirstTokenMs: out.timeToFirstTokenMs });
      onEvent({ type: 'text', text: answer.text });
    }
    return out;
  }

  /** A 200 answer that is not a completion, e.g. a proxy's login page: say what came instead of a stream. */
  private notAnEventStream(contentType: string, body: string): UserError {
    const type = contentType.split(';')[0]!.trim();
    const what = type === '' ? 'a body without a content type' : /event-stream/i.test(type) ? `${type} that holds no events` : type;
    return new UserError(`${this.client.label} answered ${this.generatePath} with ${what} instead of an event stream: "${preview(body)}".`,
      `Check that ${this.client.settingNames.url} points at the model server (vLLM, SGLang, llama-server); if a proxy or gateway sits in between, it answered instead (a login page, say) and must let the API through.`);
  }

  private async readStream(chunks: AsyncGenerator<Uint8Array>, contentType: string, sent: number, onEvent: (event: GenerateEvent) => void, warn: (m: string) => void): Promise<StreamOutcome> {
    const decoder = new SseDecoder();
    const out: StreamOutcome = { text: '', finishReason: 'stop', pieces: 0 };
    let serverFinish: string | undefined;
    let done = false;
    let serverError: ServerErrorBody | undefined;
    const malformed: string[] = [];
    let failure: unknown;
    // The body's first bytes and whether any event came, to tell "not a stream at all" from "a stream cut short".
    let head = '';
    let events = 0;
    /** Handles one event; true when the stream is over ([DONE] or an error). */
    const handle = (event: SseEvent): boolean => {
      events++;
      if (event.kind === 'data' && event.data === '[DONE]') { done = true; return true; }
      const parsed = parseJson(event.data);
      if (event.kind === 'error') { serverError = errorBodyOf(parsed, event.data); return true; }
      const chunk = readStreamChunk(parsed);
      if (!chunk) { malformed.push(preview(event.data, 60)); return false; }
      if (chunk.error) { serverError = chunk.error; return true; }
      if (chunk.progress) {
        onEvent({ type: 'prefill', doneTokens: chunk.progress.processed, totalTokens: chunk.progress.total, reusedTokens: chunk.progress.cache });
      }
      if (chunk.text) {
        if (out.timeToFirstTokenMs === undefined) {
          out.timeToFirstTokenMs = performance.now() - sent;
          onEvent({ type: 'first-token', timeToFirstTokenMs: out.timeToFirstTokenMs });
        }
        out.text += chunk.text;
        out.pieces++;
        onEvent({ type: 'text', text: chunk.text });
      }
      if (chunk.finishReason) serverFinish = chunk.finishReason;
      if (chunk.usage) out.usage = mergeUsage(out.usage, chunk.usage);
      return false;
    };
    try {
      let over = false;
      for await (const bytes of chunks) {
        if (head.length < 200) head += Buffer.from(bytes.subarray(0, 200)).toString('utf8');
        for (const event of decoder.push(bytes)) if ((over = handle(event))) break;
        if (over) break;
      }
      // The body ended cleanly: its last event may lack the blank line that closes it.
      if (!over) for (const event of decoder.end()) if (handle(event)) break;
    } catch (error) {
      failure = error;
    }
    if (malformed.length > 0) {
      warn(`Skipped ${malformed.length} malformed stream line${malformed.length === 1 ? '' : 's'} from ${this.client.label} (first: "${malformed[0]}").`);
    }
    if (decoder.invalidUtf8Lines > 0) {
      warn(`${this.client.label} sent ${decoder.invalidUtf8Lines} stream line${decoder.invalidUtf8Lines === 1 ? ' that was' : 's that were'} not valid UTF-8; the bad bytes show as \uFFFD.`);
    }
    if (failure instanceof CancelledError) {
      out.finishReason = 'cancelled';
      return out;
    }
    const url = this.client.endpoint(this.generatePath);
    let problem: UserError | undefined;
    if (failure instanceof ConnectionError || failure instanceof IdleTimeoutError) problem = connectionProblem(failure, url, this.client.settingNames);
    else if (failure) throw failure;
    else if (serverError) problem = new UserError(`${this.client.label} reported an error in the middle of the stream: ${serverError.message}.`, 'Its log says more.');
    else if (events === 0 && head.trim() !== '') throw this.notAnEventStream(contentType, head);
    else if (!done && serverFinish === undefined) problem = new UserError(`${this.client.label} ended the stream before the answer was complete.`, 'The server may have crashed or restarted; check its log.');
    if (problem) {
      if (out.text === '') throw problem;
      out.finishReason = 'cut';
      warn(`The answer is cut: ${problem.message}`);
      return out;
    }
    out.finishReason = serverFinish === 'length' ? 'length' : 'stop';
    return out;
  }

  async dispose(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }
}

interface StreamOutcome {
  text: string;
  finishReason: FinishReason;
  /** Text pieces received (a stand-in for completion tokens when the server sends no usage). */
  pieces: number;
  usage?: StreamUsage;
  timeToFirstTokenMs?: number;
}

function mergeUsage(a: StreamUsage | undefined, b: StreamUsage): StreamUsage {
  return {
    promptTokens: b.promptTokens ?? a?.promptTokens,
    completionTokens: b.completionTokens ?? a?.completionTokens,
    cachedPromptTokens: b.cachedPromptTokens ?? a?.cachedPromptTokens,
  };
}

/** `promise`, or a CancelledError as soon as `signal` aborts (the promise itself goes on for other waiters). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new CancelledError('request'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError('request'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

function listNames(models: ServedModel[]): string {
  return models.map((m) => `"${m.id}"`).join(', ');
}
