import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KnotApi } from '../api.js';
import { SSH_SPACES } from '../documents.js';

const BEGIN = '# BEGIN knot (managed by `knot ssh-config update`; edits between these lines are replaced)';
const END = '# END knot';
const LAUNCHER = fileURLToPath(new URL('../../bin/knot.js', import.meta.url));

/** ProxyCommand runs through a shell: quote paths that may hold spaces. */
const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`);

export function managedBlock(spaces: { name: string }[]): string {
  const command = `${quote(process.execPath)} ${quote(LAUNCHER)} forward ssh`;
  const hosts = spaces.map((s) =>
    [
      `Host knot.${s.name}`,
      `  ProxyCommand ${command} ${s.name}`,
      // The tunnel is already authenticated end to end (TLS to Knot + your token), and a space's
      // host key changes whenever its container is recreated.
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
    ].join('\n'),
  );
  return [BEGIN, ...hosts, END].join('\n');
}

/** Replaces the managed block (or appends one), leaving everything else in the file as it was. */
export function withManagedBlock(existing: string, block: string): string {
  const start = existing.indexOf(BEGIN);
  const end = existing.indexOf(END, start);
  if (start >= 0 && end >= 0) return existing.slice(0, start) + block + existing.slice(end + END.length);
  const separator = existing === '' || existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  return `${existing}${separator}${block}\n`;
}

/** `knot ssh-config update`: a `Host knot.<space>` entry for each space with SSH enabled. */
export async function sshConfigUpdateCommand(api: KnotApi) {
  const { me, spaces } = await api.request(SSH_SPACES);
  // Your own spaces only: a space shared with you may have one of their names (reach it with
  // `knot forward ssh <owner>/<name>`).
  const withSsh = spaces.filter((s) => s.owner.username === me?.username && (s.services.ssh || s.template.withSSH));
  const dir = path.join(homedir(), '.ssh');
  const file = path.join(dir, 'config');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8');
  } catch {
    // No config yet: the block is the whole file.
  }
  writeFileSync(file, withManagedBlock(existing, managedBlock(withSsh)), { mode: 0o600 });
  chmodSync(file, 0o600);
  const names = withSsh.map((s) => `knot.${s.name}`).join(', ');
  console.log(withSsh.length ? `Updated ${file}: ${names}. Connect with \`ssh knot.<space>\`.` : `Updated ${file}: none of your spaces has SSH enabled.`);
}
