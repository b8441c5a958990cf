// The software a proxy test space runs (bind-mounted read-only into knot-test/node):
//   8080  web: answers every request with what it received as JSON; /redirect redirects; an
//         upgrade is accepted and sent one WebSocket text frame
//   8443  the same over TLS (tls-cert.pem: a self-signed test certificate, as dev servers use)
//   7000  the same, but not offered by the agent (the proxy must not reach it)
//   9000  TCP echo
//   13337 a fake code-server: /healthz, and JSON like 8080 elsewhere (upgrades too)
//   6901  a fake desktop: only answers (and upgrades) with the right Basic credential (KNOT_EXPECTED_AUTH)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';

function echoRequest(req, res) {
  if (req.url === '/redirect') return res.writeHead(302, { location: '/landed' }).end();
  if (req.url === '/set-cookie') return res.writeHead(200, { 'set-cookie': 'app=1; Path=/' }).end('cookie set');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
}

function acceptUpgrade(req, socket) {
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const text = Buffer.from(`hello over websocket at ${req.url}`);
  socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
  socket.on('error', () => {});
}

for (const port of [8080, 7000]) {
  const server = createServer(echoRequest);
  server.on('upgrade', acceptUpgrade);
  server.listen(port, '127.0.0.1');
}

const tls = { cert: readFileSync(new URL('./tls-cert.pem', import.meta.url)), key: readFileSync(new URL('./tls-key.pem', import.meta.url)) };
createTlsServer(tls, echoRequest).listen(8443, '127.0.0.1');

createTcpServer((socket) => socket.pipe(socket).on('error', () => {})).listen(9000, '127.0.0.1');

createServer((req, res) => (req.url === '/healthz' ? res.end('ok') : echoRequest(req, res)))
  .on('upgrade', acceptUpgrade)
  .listen(13337, '127.0.0.1');

const expected = `Basic ${Buffer.from(process.env.KNOT_EXPECTED_AUTH ?? '').toString('base64')}`;
createServer((req, res) => {
  if (req.headers.authorization !== expected) return res.writeHead(401, { 'www-authenticate': 'Basic realm="desktop"' }).end('no');
  res.end(`desktop for ${(process.env.KNOT_EXPECTED_AUTH ?? '').split(':')[0]}`);
})
  .on('upgrade', (req, socket) => {
    if (req.headers.authorization === expected) return acceptUpgrade(req, socket);
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
  })
  .listen(6901, '127.0.0.1');
