import { createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import WebSocket, { createWebSocketStream } from 'ws';
import type { KnotApi } from '../api.js';
import { CliError } from '../errors.js';
import { findSpace } from '../spaces.js';

/**
 * Opens the server's forward route for one connection and joins it to `local`. A refusal (the
 * close reason) is printed, since the process on the other end of `local` cannot show it.
 */
function tunnel(api: KnotApi, path: string, local: Duplex, onRefused: (reason: string) => void) {
  const ws = new WebSocket(api.socketUrl(path), { headers: api.headers() });
  const remote = createWebSocketStream(ws);
  ws.once('close', (code, reason) => {
    if (code >= 4000) onRefused(reason.toString() || `refused (${code})`);
    local.destroy();
  });
  ws.once('unexpected-response', (_req, res) => onRefused(`the server answered HTTP ${res.statusCode}`));
  remote.on('error', () => local.destroy());
  local.on('error', () => remote.destroy());
  local.pipe(remote).pipe(local);
  return remote;
}

/** `knot forward port <local> <space> <port>`: 127.0.0.1:<local> reaches <port> inside the space. */
export async function forwardPortCommand(api: KnotApi, local: number, spaceName: string, port: number) {
  const space = await findSpace(api, spaceName);
  if (space.status !== 'RUNNING') throw new CliError(`${space.name} is ${space.status.toLowerCase()}; start it first.`);
  const offered = space.services.ports;
  if (!offered.some((p) => p.port === port)) {
    const list = offered.map((p) => `${p.port} (${p.name}, ${p.protocol.toLowerCase()})`).join(', ') || 'none yet';
    throw new CliError(`${space.name} does not offer port ${port}; its agent reports: ${list}.`);
  }

  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    tunnel(api, `/spaces/${space.id}/forward/${port}`, socket, (reason) => console.error(`knot: connection refused: ${reason}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new CliError(err.code === 'EADDRINUSE' ? `127.0.0.1:${local} is already in use; pick another local port.` : err.message)),
    );
    server.listen(local, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  console.log(`Forwarding 127.0.0.1:${bound} to ${space.name}:${port}. Press Ctrl+C to stop.`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * `knot forward ssh <space>`: stdin/stdout become the space's SSH port, for
 * `ssh -o ProxyCommand="knot forward ssh %n" <space>`. `knot.<space>` (the ssh-config host) works too.
 */
export async function forwardSshCommand(api: KnotApi, host: string) {
  const name = host.includes('.') ? host.slice(host.lastIndexOf('.') + 1) : host;
  const space = await findSpace(api, name);
  if (space.status !== 'RUNNING') throw new CliError(`${space.name} is ${space.status.toLowerCase()}; start it first.`);
  if (!space.services.ssh) throw new CliError(`${space.name} has no SSH server answering (is the template's SSH enabled and the agent running?).`);
  let refused: string | undefined;
  const stdio = new StdioDuplex();
  const remote = tunnel(api, `/spaces/${space.id}/forward/ssh`, stdio, (reason) => (refused = reason));
  await new Promise<void>((resolve) => remote.once('close', () => resolve()));
  if (refused) throw new CliError(`SSH to ${space.name} refused: ${refused}`);
}

/** stdin and stdout as one stream, so the same tunnel code serves sockets and ssh's ProxyCommand. */
class StdioDuplex extends Duplex {
  constructor() {
    super();
    process.stdin.on('data', (chunk) => {
      if (!this.push(chunk)) process.stdin.pause();
    });
    process.stdin.once('end', () => this.push(null));
  }
  override _read() {
    process.stdin.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
    process.stdout.write(chunk, done);
  }
}
