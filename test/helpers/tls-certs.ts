/**
 * Certificates for a Docker engine started with --tlsverify, made with openssl on this machine as
 * Docker's own guide does (a CA, a server certificate for the engine's address, a client
 * certificate for Knot), short-lived and written only under the given folder.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = (...args: string[]) => run('openssl', args, { timeout: 30_000 });

/** A folder with ca.pem (the certificate) and ca-key.pem. */
export async function makeCa(dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', path.join(dir, 'ca-key.pem'), '-out', path.join(dir, 'ca.pem'), '-subj', `/CN=${name}`);
  return dir;
}

/**
 * A folder as the docker CLI and Knot expect it: ca.pem (the CA), cert.pem and key.pem (signed by
 * it). `ips` are the server's addresses (its subjectAltName); none makes a client certificate.
 */
export async function issue(caDir: string, dir: string, opts: { name: string; ips?: string[] }): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const key = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'req.csr');
  const ext = path.join(dir, 'ext.cnf');
  await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${opts.name}`);
  writeFileSync(ext, opts.ips?.length ? `subjectAltName=${opts.ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth\n` : 'extendedKeyUsage=clientAuth\n');
  await openssl('x509', '-req', '-in', csr, '-CA', path.join(caDir, 'ca.pem'), '-CAkey', path.join(caDir, 'ca-key.pem'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', ext, '-out', path.join(dir, 'cert.pem'));
  copyFileSync(path.join(caDir, 'ca.pem'), path.join(dir, 'ca.pem'));
  return dir;
}
