// How the runtime reaches the engine: address parsing, a connect timeout, and one wrapper
// (`call`) that bounds every request and turns "nobody answers" into RuntimeUnavailableError.
import http from 'node:http';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { RuntimeUnavailableError, isConnectionError } from './errors.js';
import { isNetworkEngine, tlsProblem, type EngineTls } from './tls.js';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export interface ConnectionOptions {
  /** unix:///path/docker.sock, /path/docker.sock, tcp://host:port. Default: $DOCKER_HOST, then the local socket. */
  dockerHost?: string;
  /** Bound on one request/answer round trip (not on streams once they flow). */
  requestTimeoutMs?: number;
  /** Bound on opening the connection (and its TLS handshake): an absent engine behind TCP fails this fast. */
  connectTimeoutMs?: number;
  /** For a tcp:// engine: HTTPS, verifying the engine against `ca` and showing it Knot's client certificate. */
  tls?: EngineTls;
}

export function dockerOptions(dockerHost: string, tls?: EngineTls): Docker.DockerOptions {
  // Every field is set, because docker-modem merges our options over ones it reads from
  // $DOCKER_HOST (and DOCKER_CERT_PATH) itself; an inherited `host` would silently win over our socketPath.
  const base = { host: undefined, port: undefined, socketPath: undefined, timeout: undefined, ca: undefined, cert: undefined, key: undefined };
  if (dockerHost.startsWith('unix://')) {
    return { ...base, socketPath: dockerHost.slice('unix://'.length), protocol: 'http' };
  }
  if (dockerHost.startsWith('/')) return { ...base, socketPath: dockerHost, protocol: 'http' };
  const match = /^(?:tcp|http):\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(dockerHost);
  if (!match) {
    throw new RuntimeUnavailableError(
      `DOCKER_HOST "${dockerHost}" is not understood; use unix:///path/to/docker.sock or tcp://host:port`,
    );
  }
  if (tls) return { ...base, host: match[1], port: Number(match[2] ?? 2376), protocol: 'https', ca: tls.ca, cert: tls.cert, key: tls.key };
  return { ...base, host: match[1], port: Number(match[2] ?? 2375), protocol: 'http' };
}

// Node's agents have no connect timeout of their own; a request timeout alone would also cut
// long answers (a stop waiting out its grace period). No keep-alive: the engine may close idle
// connections, and a reused dead socket would surface as a spurious "engine unreachable".
function withConnectTimeout<A extends http.Agent>(agent: A, connectTimeoutMs: number): A {
  const create = agent.createConnection.bind(agent) as (options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void) => Duplex | null | undefined;
  agent.createConnection = (options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void) => {
    const socket = create(options, callback);
    if (!socket) return socket;
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connect timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' });
      socket.destroy(err);
    }, connectTimeoutMs);
    // Over TLS the handshake counts too: an engine that takes the TCP connection but never answers it is as absent.
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
  // docker-modem runs util.inspect(options, { showHidden: true, depth: null }) on every request,
  // debug output on or off, and the options hold this agent: without this, every engine call
  // walks every open socket's internals (tens of milliseconds each, more with calls in flight).
  Object.defineProperty(agent, inspect.custom, { value: () => 'ConnectTimeoutAgent' });
  return agent;
}

export class Connection {
  readonly docker: Docker;
  readonly endpoint: string;
  private readonly agent: http.Agent;
  private readonly requestTimeoutMs: number;
  /** Only for an engine reached over TCP; a unix socket is protected by its file permissions. */
  private readonly tls: EngineTls | undefined;

  constructor(opts: ConnectionOptions = {}) {
    this.endpoint = opts.dockerHost || process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.tls = opts.tls && isNetworkEngine(this.endpoint) ? opts.tls : undefined;
    const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.agent = this.tls
      ? withConnectTimeout(new https.Agent({ keepAlive: false, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key }), connectTimeoutMs)
      : withConnectTimeout(new http.Agent({ keepAlive: false }), connectTimeoutMs);
    // `agent` is a docker-modem option that @types/dockerode does not list.
    this.docker = new Docker({ ...dockerOptions(this.endpoint, this.tls), agent: this.agent } as Docker.DockerOptions);
  }

  /**
   * Runs one engine request, bounded by a timeout. The signal aborts the HTTP request; the
   * race covers the few dockerode calls that ignore it. Streams count as answered once the
   * response head arrives. `signal` lets the caller give up early (an event watch closing).
   */
  async call<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    const controller = new AbortController();
    const giveUp = () => controller.abort();
    opts.signal?.addEventListener('abort', giveUp, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new RuntimeUnavailableError(
          `Docker engine at ${this.endpoint} did not answer within ${timeoutMs / 1000} s (${what})`,
        ));
      }, timeoutMs);
    });
    try {
      return await Promise.race([fn(controller.signal), timeout]);
    } catch (err) {
      throw isConnectionError(err) || tlsProblem(err, this.tls) ? this.unavailable(err) : err;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', giveUp);
    }
  }

  unavailable(err: unknown): RuntimeUnavailableError {
    if (err instanceof RuntimeUnavailableError) return err;
    const problem = tlsProblem(err, this.tls);
    if (problem) return new RuntimeUnavailableError(`Docker engine at ${this.endpoint} cannot be trusted: ${problem}`, { cause: err });
    const detail = err instanceof Error ? err.message : String(err);
    return new RuntimeUnavailableError(`Docker engine is not reachable at ${this.endpoint}: ${detail}`, { cause: err });
  }

  close(): void {
    this.agent.destroy();
  }
}
