import WebSocket from 'ws';

/**
 * A graphql-transport-ws connection spoken by hand, for tests about the connection itself: which
 * close code the server sends, which headers (cookie, Origin) it accepts. Feature tests should use
 * GraphQLTestClient.subscribe instead.
 */
export class RawGraphQLSocket {
  readonly messages: { id?: string; type: string; payload?: unknown }[] = [];
  /** Resolves with the close code and reason whoever closed it. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly opened: Promise<void>;
  private waiters: (() => void)[] = [];

  constructor(baseUrl: string, options: { headers?: Record<string, string>; connectionParams?: Record<string, unknown> } = {}) {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers: options.headers });
    this.socket = socket;
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.wake();
    });
    socket.on('close', () => this.wake());
    void this.opened.then(() => this.send({ type: 'connection_init', payload: options.connectionParams ?? {} })).catch(() => {});
  }

  readonly socket: WebSocket;

  send(message: unknown) {
    this.socket.send(JSON.stringify(message));
  }

  /** Resolves on connection_ack; rejects with the close code if the server closes first. */
  async acknowledged(timeout = 10_000): Promise<void> {
    await this.waitFor((m) => m.type === 'connection_ack', timeout);
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>) {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  complete(id: string) {
    this.send({ id, type: 'complete' });
  }

  /** The first message (seen or still to come) that matches. */
  async waitFor(match: (m: RawGraphQLSocket['messages'][number]) => boolean, timeout = 10_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) {
        const { code, reason } = await this.closed;
        throw new Error(`socket closed (${code} ${reason}) before the expected message; got ${JSON.stringify(this.messages)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The close code, failing the test if the server has not closed the socket within `timeout`. */
  async closeCode(timeout = 10_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the socket was not closed within ${timeout} ms`)), timeout);
    });
    try {
      return (await Promise.race([this.closed, timedOut])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  close() {
    this.socket.close();
    return this.closed;
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
