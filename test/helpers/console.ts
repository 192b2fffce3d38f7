import type { TestServer } from './server.js';

export interface ConsoleResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A browser-like client of the console API: keeps the cookies and echoes the CSRF token. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | undefined;

  constructor(readonly endpoint: string) {}

  static for(t: TestServer): ConsoleClient {
    return new ConsoleClient(t.endpoint);
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: string | null; headers?: Record<string, string> } = {},
  ): Promise<ConsoleResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    if (csrf !== null && csrf !== undefined && method !== 'GET') headers['x-csrf-token'] = csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.endpoint}/console/api${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    this.remember(res.headers);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  get = <T = Record<string, unknown>>(path: string) => this.request<T>('GET', path);
  post = <T = Record<string, unknown>>(path: string, body: unknown = {}) => this.request<T>('POST', path, body);
  put = <T = Record<string, unknown>>(path: string, body: unknown = {}) => this.request<T>('PUT', path, body);
  delete = <T = Record<string, unknown>>(path: string) => this.request<T>('DELETE', path);

  async signIn(username: string, password: string): Promise<ConsoleResponse> {
    const res = await this.request('POST', '/session', { username, password });
    if (res.status === 200) this.csrfToken = res.body.csrfToken as string;
    return res;
  }
}

/** Signs in as the console admin of a test server (its generated password). */
export async function adminConsole(t: TestServer): Promise<ConsoleClient> {
  const c = ConsoleClient.for(t);
  const password = t.server.consoleAdmin.generatedPassword;
  if (password === undefined) throw new Error('the test server has no generated console password');
  const res = await c.signIn('admin', password);
  if (res.status !== 200) throw new Error(`console sign-in failed: ${res.status} ${JSON.stringify(res.body)}`);
  return c;
}

export interface ServerEvent {
  event: string;
  data: unknown;
}

/** A server-sent event stream of the console, read event by event. */
export class EventReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();

  private constructor(
    readonly status: number,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
    private readonly abort: AbortController,
  ) {}

  static async open(c: ConsoleClient, path: string): Promise<EventReader> {
    const abort = new AbortController();
    const res = await fetch(`${c.endpoint}/console/api${path}`, {
      headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/event-stream' },
      signal: abort.signal,
    });
    return new EventReader(res.status, res.body?.getReader(), abort);
  }

  /** The next event, or undefined when the server ended the stream. */
  async next(): Promise<ServerEvent | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
        if (event !== undefined) return { event, data: data === undefined ? undefined : JSON.parse(data) };
        continue; // comments and retry lines
      }
      const chunk = await this.reader?.read();
      if (!chunk || chunk.done) return undefined;
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** Events until one satisfies the predicate. */
  async until(match: (e: ServerEvent) => boolean): Promise<ServerEvent> {
    for (;;) {
      const e = await this.next();
      if (!e) throw new Error('the event stream ended');
      if (match(e)) return e;
    }
  }

  close(): void {
    this.abort.abort();
  }
}
