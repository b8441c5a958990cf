import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A real HTTP + graphql-ws client, holding either an API token or a session cookie. */
export class GraphQLTestClient {
  cookie: string | undefined;
  private sockets: Client[] = [];

  /** Only session clients (from login) keep cookies, so `anonymous` stays anonymous. */
  constructor(readonly url: string, readonly token?: string, private keepCookies = false) {}

  headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookie) headers.cookie = this.cookie;
    return headers;
  }

  async request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T> & { status: number }> {
    const res = await fetch(`${this.url}/graphql`, { method: 'POST', headers: this.headers(), body: JSON.stringify({ query, variables }) });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie && this.keepCookies) this.cookie = setCookie.split(';')[0];
    return { ...((await res.json()) as GraphQLResponse<T>), status: res.status };
  }

  /** Data, or throws with the errors: for steps that must succeed. */
  async data<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await this.request<T>(query, variables);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data as T;
  }

  /** The `extensions.code` of the first error, asserting there was one. */
  async errorCode(query: string, variables?: Record<string, unknown>): Promise<string> {
    const res = await this.request(query, variables);
    if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
    return String(res.errors[0]!.extensions?.code);
  }

  async login(username: string, password: string): Promise<GraphQLTestClient> {
    const session = new GraphQLTestClient(this.url, undefined, true);
    const res = await session.request(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { id } }`, { u: username, p: password });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return session;
  }

  async createToken(name: string): Promise<string> {
    const res = await this.data<{ createApiToken: { token: string } }>(`mutation($n: String!) { createApiToken(name: $n) { token } }`, { n: name });
    return res.createApiToken.token;
  }

  /** A graphql-ws connection authenticated like this client (token in connectionParams, or the cookie). */
  ws(options: { connectionParams?: Record<string, unknown>; retry?: boolean } = {}): Client {
    const cookie = this.cookie;
    const client = createClient({
      url: `${this.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, cookie ? { headers: { cookie } } : {});
        }
      },
      connectionParams: options.connectionParams ?? (this.token ? { token: this.token } : {}),
      retryAttempts: options.retry ? 5 : 0,
      lazy: true,
    });
    this.sockets.push(client);
    return client;
  }

  /** Subscribes and collects every event; `next(predicate)` waits for the first matching one not yet taken. */
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, client = this.ws()): Subscription<T> {
    return new Subscription<T>(client, query, variables);
  }

  async close() {
    await Promise.all(this.sockets.map((s) => s.dispose()));
    this.sockets = [];
  }
}

export class Subscription<T> {
  readonly events: T[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private taken = 0;
  private waiters: (() => void)[] = [];
  private unsubscribe: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(value.errors);
          if (value.data) this.events.push(value.data as T);
          this.wake();
        },
        error: (err) => {
          this.errors.push(err);
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits for the next event (after those already taken) that matches, skipping others. */
  async next(match: (event: T) => boolean = () => true, timeout = 30_000): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      while (this.taken < this.events.length) {
        const event = this.events[this.taken++]!;
        if (match(event)) return event;
      }
      if (this.errors.length) throw new Error(`subscription failed: ${JSON.stringify(this.errors, errorReplacer)}`);
      if (this.completed) throw new Error('subscription completed before the expected event');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeout} ms; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close() {
    this.unsubscribe();
  }
}

function errorReplacer(_key: string, value: unknown) {
  if (value && typeof value === 'object' && 'code' in value && 'reason' in value) {
    return { code: (value as { code: unknown }).code, reason: (value as { reason: unknown }).reason };
  }
  return value;
}
