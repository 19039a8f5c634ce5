import { exitCodeFor } from './exit-codes.js';

// A small client of config-api: JSON in and out, the bearer token, a timeout, and errors that carry the API's
// `{ code, message, errors }` and the exit code they mean.

export interface ApiProblem {
  path: string;
  message: string;
}

export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly status?: number,
    readonly problems: ApiProblem[] = [],
    readonly body?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ClientOptions {
  url: string;
  token?: string | undefined;
  timeoutMs: number;
}

export class ApiClient {
  constructor(private readonly opts: ClientOptions) {}

  private url(path: string): string {
    return `${this.opts.url.replace(/\/+$/, '')}${path}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, opts: { text?: boolean; raw?: boolean } = {}): Promise<T> {
    const url = this.url(path);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': opts.text ? 'text/plain' : 'application/json' }),
        ...(body === undefined ? {} : { body: opts.text ? String(body) : JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw new ApiClientError(`cannot reach config-api at ${this.opts.url}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, 1, undefined, [], undefined, { cause: err });
    }
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const parsed: unknown = type.includes('json') && text !== '' ? JSON.parse(text) : text;
    if (!res.ok) {
      const b = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { message?: string; errors?: ApiProblem[] };
      throw new ApiClientError(b.message ?? `${res.status} ${res.statusText}`, exitCodeFor(res.status), res.status, b.errors ?? [], parsed);
    }
    return (opts.raw ? text : parsed) as T;
  }

  /** Opens the SSE stream and calls `onEvent` for each event until `signal` aborts or the server ends it. */
  async stream(path: string, onEvent: (type: string, data: unknown) => boolean | void, signal: AbortSignal): Promise<void> {
    const url = this.url(path);
    let res: Response;
    try {
      res = await fetch(url, { headers: this.headers({ accept: 'text/event-stream' }), signal });
    } catch (err) {
      if (signal.aborted) return;
      throw new ApiClientError(`cannot reach config-api at ${this.opts.url}: ${(err as Error).message}`, 1, undefined, [], undefined, { cause: err });
    }
    if (!res.ok || !res.body) {
      const b = (await res.json().catch(() => ({}))) as { message?: string; errors?: ApiProblem[] };
      throw new ApiClientError(b.message ?? `${res.status}`, exitCodeFor(res.status), res.status, b.errors ?? []);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data && onEvent(type, JSON.parse(data)) === false) return;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }
}
