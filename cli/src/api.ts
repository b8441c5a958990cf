import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TadaDocumentNode } from '../../schema/client/graphql.js';
import { CliError, EXIT } from './errors.js';

/** An operation without variables may be called without them. */
type Vars<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

/** The server's own words for a refusal, with the exit code that fits it. */
function refusal(errors: GraphQLError[]): CliError {
  const first = errors[0]!;
  const code = first.extensions?.code;
  const exit = code === 'UNAUTHENTICATED' ? EXIT.auth : EXIT.failed;
  const hint = code === 'UNAUTHENTICATED' ? ' Run `knot login <server>` again.' : '';
  return new CliError(`${first.message}${hint}`, exit, code);
}

/** GraphQL over HTTP and graphql-ws, authenticated by an API token (or, during login, a session cookie). */
export class KnotApi {
  private sockets: Client[] = [];

  constructor(
    readonly server: string,
    readonly token?: string,
    public cookie?: string,
  ) {}

  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookie) headers.cookie = this.cookie;
    return headers;
  }

  /** ws(s)://server/path */
  socketUrl(path: string): string {
    return `${this.server.replace(/^http/i, 'ws')}${path}`;
  }

  async request<T, V>(document: TadaDocumentNode<T, V>, ...[variables]: Vars<V>): Promise<T> {
    const query = print(document);
    let res: Response;
    try {
      res = await fetch(`${this.server}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...this.headers() },
        body: JSON.stringify({ query, variables: variables ?? {} }),
      });
    } catch (err) {
      throw unreachable(this.server, err);
    }
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    let body: { data?: T; errors?: GraphQLError[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new CliError(`${this.server} did not answer like a Knot server (HTTP ${res.status}).`, EXIT.unreachable);
    }
    if (body.errors?.length) throw refusal(body.errors);
    if (!body.data) throw new CliError(`${this.server} answered HTTP ${res.status} without data.`, EXIT.failed);
    return body.data;
  }

  /**
   * Calls `onEvent` for every event of a subscription. Resolves when the subscription completes
   * or `stop()` is called; rejects with a CliError when it fails.
   */
  subscribe<T, V>(document: TadaDocumentNode<T, V>, variables: V, onEvent: (data: T, stop: () => void) => void): Promise<void> {
    const query = print(document);
    const client = this.webSocketClient();
    return new Promise<void>((resolve, reject) => {
      let dispose = () => {};
      const stop = () => {
        dispose();
        resolve();
      };
      dispose = client.subscribe<T>(
        { query, variables: variables as Record<string, unknown> },
        {
          next: (result) => {
            if (result.errors?.length) return reject(refusal(result.errors as GraphQLError[]));
            if (result.data) onEvent(result.data as T, stop);
          },
          error: (err) => reject(socketError(this.server, err)),
          complete: () => resolve(),
        },
      );
    });
  }

  async close() {
    await Promise.all(this.sockets.map((s) => s.dispose()));
  }

  private webSocketClient(): Client {
    const headers = this.headers();
    const client = createClient({
      url: this.socketUrl('/graphql'),
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers });
        }
      },
      connectionParams: this.token ? { token: this.token } : {},
      retryAttempts: 0,
    });
    this.sockets.push(client);
    return client;
  }
}

export function unreachable(server: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(`Could not reach ${server}: ${cause?.code ?? cause?.message ?? (err as Error).message}.`, EXIT.unreachable);
}

function socketError(server: string, err: unknown): CliError {
  if (Array.isArray(err)) return refusal(err as GraphQLError[]);
  const close = err as { code?: number; reason?: string };
  if (close?.code === 4403 || close?.code === 4401) return new CliError('The server refused the stored token. Run `knot login <server>` again.', EXIT.auth);
  if (typeof close?.code === 'number') {
    return new CliError(`The connection to ${server} closed (${close.code}${close.reason ? `: ${close.reason}` : ''}).`, EXIT.unreachable);
  }
  return unreachable(server, err);
}
