import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './errors.js';

export interface CliConfig {
  /** Base URL of the Knot server, without a trailing slash. */
  server: string;
  token: string;
}

export function configPath(): string {
  const base = process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'knot', 'config.json');
}

export function readConfig(): CliConfig {
  let raw: string;
  try {
    raw = readFileSync(configPath(), 'utf8');
  } catch {
    throw new CliError('Not logged in. Run `knot login <server>` first.', EXIT.auth);
  }
  try {
    const config = JSON.parse(raw) as Partial<CliConfig>;
    if (typeof config.server === 'string' && typeof config.token === 'string') return { server: config.server, token: config.token };
  } catch {
    // Reported below.
  }
  throw new CliError(`${configPath()} is not a valid Knot configuration. Run \`knot login <server>\` again.`, EXIT.auth);
}

/** The token is a password: the file is readable by its owner only. */
export function writeConfig(config: CliConfig): string {
  const file = configPath();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** `knot.example.com` → `https://knot.example.com`; an explicit scheme is kept. */
export function normalizeServer(input: string): string {
  const withScheme = /^https?:\/\//i.test(input) ? input : `https://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`"${input}" is not a server address; give one like https://knot.example.com.`, EXIT.usage);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
