#!/usr/bin/env node
// Stand-in for code-server in tests (the real image is over 700 MB and cannot be pulled here):
// takes the same arguments, the last --bind-addr winning as in code-server, and answers
// GET /healthz as code-server does, which is all Knot asks of it.
import { createServer } from 'node:http';

let bind = '127.0.0.1:8080';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) if (args[i] === '--bind-addr') bind = args[++i];
const [host, port] = [bind.slice(0, bind.lastIndexOf(':')), Number(bind.slice(bind.lastIndexOf(':') + 1))];
createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"alive"}');
  res.writeHead(200, { 'content-type': 'text/html' }).end('<title>code-server stand-in</title>');
}).listen(port, host, () => console.log(`HTTP server listening on http://${bind}/ (stand-in, args: ${args.join(' ')})`));
