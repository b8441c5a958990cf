/**
 * A reference for the terminal bench, not a product path: the least any WebSocket terminal can do
 * between a browser and `docker exec`, a bare `ws` server in the bench process that pipes each
 * socket's bytes to and from a fresh exec, with no authorization, session or buffer. The Knot
 * route is compared with it as well as with the `docker exec` floor, so the cost of the extra
 * hop itself (two process wakeups per keystroke) is told apart from the cost of Knot's code.
 */
import Docker from 'dockerode';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export async function startBareRelay(container: string): Promise<{ url: string; close: () => Promise<void> }> {
  const docker = new Docker();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => {
    const held: Buffer[] = [];
    let exec: NodeJS.ReadWriteStream | null = null;
    ws.on('message', (data: Buffer) => (exec ? exec.write(data) : held.push(data)));
    void (async () => {
      const created = await docker.getContainer(container).exec({ Cmd: ['sh', '-l'], Env: ['TERM=xterm-256color'], Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = (await created.start({ hijack: true, stdin: true, Tty: true })) as NodeJS.ReadWriteStream & { destroy(): void };
      await created.resize({ w: 200, h: 50 });
      stream.on('data', (chunk: Buffer) => ws.send(chunk, { binary: true }));
      ws.once('close', () => stream.destroy());
      exec = stream;
      for (const data of held.splice(0)) stream.write(data);
    })().catch(() => ws.close(1011));
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
  };
}
