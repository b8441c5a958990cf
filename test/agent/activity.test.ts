import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { busyServices, establishedLocalPorts } from '../../agent/src/activity.js';
import { parseAgentMessage } from '../../protocol/agent-wire.js';

describe('agent-reported activity', () => {
  const open: (Server | Socket)[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) {
      if ('destroy' in s) s.destroy();
      else await new Promise((r) => s.close(r));
    }
  });

  it('reads connected sockets, not listening ones, from a /proc/net/tcp table', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
      '   1: 0100007F:3412 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1',
    ].join('\n');
    expect([...establishedLocalPorts(table)]).toEqual([0x3412]);
  });

  it('counts a service as busy while a client is connected to it, and not once it leaves', async () => {
    const server = createServer((socket) => open.push(socket));
    open.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const config = { sshPort: port, codeServerPort: null, vncHttpPort: null };
    expect(await busyServices(config)).toEqual([]);

    const client = connect(port, '127.0.0.1');
    open.push(client);
    await once(client, 'connect');
    expect(await busyServices(config)).toEqual(['ssh']);

    client.destroy();
    await once(client, 'close');
    await expect.poll(() => busyServices(config)).toEqual([]);
  });

  it('accepts only the known services on the wire', () => {
    expect(parseAgentMessage(JSON.stringify({ t: 'activity', what: ['ssh', 'code-server'] }))).toEqual({ t: 'activity', what: ['ssh', 'code-server'] });
    expect(parseAgentMessage(JSON.stringify({ t: 'activity', what: ['rm -rf'] }))).toBeNull();
    expect(parseAgentMessage(JSON.stringify({ t: 'activity', what: 'ssh' }))).toBeNull();
  });
});
