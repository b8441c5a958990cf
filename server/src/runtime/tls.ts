// TLS to Docker engines reached over TCP, the way the docker CLI does it: a folder holding ca.pem
// (the CA that signed the engine's certificate), cert.pem and key.pem (Knot's client certificate,
// which an engine started with --tlsverify demands). docs/scale-out.md, "TLS to the engines".
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { RuntimeError } from './errors.js';

export interface EngineTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** The folder the files came from, for messages. */
  dir: string;
}

const FILES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

/** tcp:// (or http://) engines go over the network; a unix socket does not need TLS. */
export function isNetworkEngine(dockerHost: string): boolean {
  return /^(?:tcp|http):\/\//.test(dockerHost);
}

/** Reads the three files, or says which one is missing. Read once at start: a rotated certificate needs a restart. */
export function readEngineTls(dir: string, forWhat: string): EngineTls {
  const [ca, cert, key] = FILES.map((file) => {
    const full = path.join(dir, file);
    try {
      return readFileSync(full);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(err as Error).message})`;
      throw new RuntimeError(`TLS for ${forWhat}: ${full} ${why}; the folder must hold ${FILES.join(', ')}`, 'failed', { cause: err });
    }
  }) as [Buffer, Buffer, Buffer];
  return { ca, cert, key, dir };
}

/**
 * A swarm node's TLS: `<certPath>/<hostname>/` when that folder exists (a client certificate per
 * node), else the files at the top of `<certPath>` (one client certificate for every node).
 */
export function nodeTlsDir(certPath: string, hostname: string): string {
  const own = path.join(certPath, hostname);
  return existsSync(own) && statSync(own).isDirectory() ? own : certPath;
}

/**
 * A TLS failure in words a person can act on: a certificate the CA does not vouch for, a name it
 * was not made for, or an engine that refused Knot's client certificate. Null when it is none.
 */
export function tlsProblem(err: unknown, tls: EngineTls | undefined): string | null {
  if (!tls) return null;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  const untrusted = ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE'];
  if (untrusted.includes(code)) return `its TLS certificate is not signed by the CA in ${path.join(tls.dir, 'ca.pem')} (${message})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its TLS certificate was not made for this address (${message})`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `its TLS certificate is not valid now (${message})`;
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') return `the TLS handshake failed; the engine may not accept the client certificate in ${tls.dir} (${message})`;
  return null;
}
