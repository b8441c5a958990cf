/**
 * The job keys that hand a space the Docker host. Any of them makes a template root-equivalent
 * (a privileged container, a host path, a host device, an added capability, another network
 * namespace) or opens it past the spaces' isolation (a port published on the host), so only an
 * Admin may save a template that uses them (docs/security.md).
 *
 * Judged on the text as written, before variables are rendered: a variable's value can change
 * after the save (MANAGE_VARIABLES) or differ per user, so a key whose meaning a variable decides
 * counts as root-equivalent.
 */
import { isScalar } from 'yaml';
import type { Node } from 'yaml';
import { identityRender, YamlReader } from './yaml-reader.js';

export interface RootKeyUse {
  key: string;
  line: number;
  why: string;
}

const WHY: Record<string, string> = {
  privileged: 'a privileged container is root on the Docker host',
  cap_add: 'added capabilities reach past the container into the host',
  devices: 'a host device gives the space the hardware behind it',
  network: 'an explicit network leaves the space\'s own network (host, another container, another user\'s network)',
  volumes: 'a host path mounted into the space exposes the host\'s files',
  // Docker publishes even a bare `8080` on every host address: other spaces reach it through the
  // host gateway, and the network reaches it without Knot's login (Knot's own way in is the agent).
  ports: 'a published port opens the space on the Docker host\'s addresses, to every other space and to the network, without Knot\'s login',
};

export function rootKeysIn(job: string): RootKeyUse[] {
  const reader = new YamlReader('job', job, identityRender);
  const root = reader.parsed ? reader.root : null;
  if (!root || reader.isNull(root) || !('items' in root)) return [];
  const uses: RootKeyUse[] = [];
  const lineOf = (node: Node | null) => reader.lineOf(node);
  const map = reader.map(root, 'the job spec');
  for (const { key, keyNode, value } of map ? reader.entries(map, 'the job spec') : []) {
    if (!(key in WHY) || reader.isNull(value)) continue;
    if (key === 'privileged' && isScalar(value) && (value.value === false || String(value.value).trim().toLowerCase() === 'false')) continue;
    if (key === 'volumes') {
      const items = 'items' in (value as object) ? ((value as { items: unknown[] }).items ?? []) : [value];
      for (const item of items) {
        const node = reader.resolve(item);
        const text = isScalar(node) ? String(node.value ?? '').trim() : '';
        // "/host/path:/path" is a bind mount; a variable in front could render to a path.
        if (text.startsWith('/') || text.startsWith('${{')) uses.push({ key, line: lineOf(node), why: WHY[key]! });
      }
      continue;
    }
    uses.push({ key, line: lineOf(keyNode), why: WHY[key]! });
  }
  return uses;
}
