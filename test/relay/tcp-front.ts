import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * The load balancer in front of the replicas, as small as it gets: each connection goes to the
 * first backend that accepts it, in order. A backend that died refuses, so its agents land on the
 * next one when they reconnect.
 */
export class TcpFront {
  private server: Server;
  private sockets = new Set<Socket>();
  readonly listening: Promise<number>;

  constructor(private backends: () => number[]) {
    this.server = createServer((client) => this.accept(client));
    this.listening = new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  private accept(client: Socket) {
    this.track(client);
    client.pause();
    const tryNext = (remaining: number[]) => {
      const port = remaining[0];
      if (port === undefined) return client.destroy();
      const upstream = connect(port, '127.0.0.1');
      upstream.once('error', () => tryNext(remaining.slice(1)));
      upstream.once('connect', () => {
        this.track(upstream);
        upstream.removeAllListeners('error');
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        upstream.on('error', end).on('close', end);
        client.on('error', end).on('close', end);
        client.pipe(upstream).pipe(client);
        client.resume();
      });
    };
    tryNext(this.backends());
  }

  private track(socket: Socket) {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
