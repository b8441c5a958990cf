import net from 'node:net';

/**
 * A TCP relay in front of a server, standing in for the network between a browser and Knot: cut()
 * drops every connection and refuses new ones (a laptop going offline), heal() lets them through
 * again. Listens on an ephemeral port on loopback.
 */
export class NetworkCut {
  private readonly sockets = new Set<net.Socket>();
  private down = false;

  private constructor(
    private readonly server: net.Server,
    /** The target's URL with the relay's port: what the browser should open. */
    readonly url: string,
  ) {}

  static async before(targetUrl: string): Promise<NetworkCut> {
    const target = new URL(targetUrl);
    let relay: NetworkCut | null = null;
    const server = net.createServer((client) => relay!.relay(client, target.hostname, Number(target.port)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(targetUrl);
    url.port = String((server.address() as net.AddressInfo).port);
    relay = new NetworkCut(server, url.origin);
    return relay;
  }

  private relay(client: net.Socket, host: string, port: number) {
    if (this.down) return void client.destroy();
    const upstream = net.connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.once('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut() {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal() {
    this.down = false;
  }

  async close() {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
