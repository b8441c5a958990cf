import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * AES-256-GCM for values kept secret at rest (protected template variables). The key comes from
 * KNOT_ENCRYPTION_KEY, or a file generated once under the data directory; replicas sharing a
 * database must share the key too, so set the variable when running more than one.
 */
export interface CryptoBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function loadCryptoBox(dataDir: string, envKey = process.env.KNOT_ENCRYPTION_KEY): CryptoBox {
  const key = createHash('sha256').update(envKey || readOrCreateKeyFile(dataDir)).digest();
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed) {
      const raw = Buffer.from(sealed.replace(/^v1:/, ''), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

function readOrCreateKeyFile(dataDir: string): string {
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}
