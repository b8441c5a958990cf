import WebSocket from 'ws';

/**
 * What an xterm page does with the terminal route: binary frames for keystrokes and output, a text
 * frame for resize. Collects every output byte so tests can wait for what a person would see.
 */
export class TerminalClient {
  readonly socket: WebSocket;
  /** Resolves with the close code and reason, whoever closed it. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The session the server named in its first text frame, and the output position its replay starts at. */
  session: { id: string; position: number } | null = null;
  private chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.socket.once('close', (code, reason) => {
        this.wake();
        resolve({ code, reason: reason.toString() });
      }),
    );
    this.socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.chunks.push(data);
      else if (!this.session) {
        const message = JSON.parse(data.toString('utf8')) as { session: string; position: number };
        this.session = { id: message.session, position: message.position };
      }
      this.wake();
    });
  }

  static open(baseUrl: string, spaceId: string, options: { token?: string; cookie?: string; origin?: string; query?: string } = {}) {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    if (options.origin) headers.origin = options.origin;
    return new TerminalClient(`${baseUrl}/spaces/${spaceId}/terminal${options.query ?? ''}`, headers);
  }

  /** Waits for the server to name the session. */
  async sessionId(): Promise<string> {
    await this.waitFor(() => !!this.session, 'the session message');
    return this.session!.id;
  }

  /** The output position just past what this client has received. */
  get position(): number {
    return (this.session?.position ?? 0) + this.output.length;
  }

  get output(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.output.toString('utf8');
  }

  async opened(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN) return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    });
  }

  async type(text: string | Buffer) {
    await this.opened();
    this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, { binary: true });
  }

  async resize(cols: number, rows: number) {
    await this.opened();
    this.socket.send(JSON.stringify({ type: 'resize', cols, rows }));
  }

  /** Waits until the output (from `from` bytes on) matches; returns the match. */
  async waitForOutput(pattern: RegExp, { timeout = 15_000, from = 0 } = {}): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await this.waitFor(() => !!(match = this.output.subarray(from).toString('utf8').match(pattern)), String(pattern), timeout);
    return match!;
  }

  private async waitFor(done: () => boolean, what: string, timeout = 15_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      if (done()) return;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`terminal closed before ${what}; output: ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeout} ms; output: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Runs a command and returns what it printed, marked so the echoed command line is not mistaken for it. */
  async run(command: string): Promise<string> {
    const from = this.output.length;
    const tag = Math.random().toString(36).slice(2, 8);
    // The marker is built by the shell, so the echo of the typed line never matches it.
    await this.type(`echo "<$(printf ${tag})>"; ${command}; echo "</$(printf ${tag})>"\n`);
    const match = await this.waitForOutput(new RegExp(`<${tag}>\\r?\\n([\\s\\S]*?)</${tag}>`), { from });
    return match[1]!.replace(/\r/g, '');
  }

  close() {
    this.socket.close();
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
