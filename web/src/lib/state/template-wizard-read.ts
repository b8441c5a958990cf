/**
 * A saved template back into the wizard's values, or why the wizard cannot show it without losing
 * something (a key it does not edit, a comment, a bind mount…); then it opens in the YAML editor.
 */
import { isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type YAMLMap } from 'yaml';
import type { Platform, Shell } from '../api/types.js';
import { HOSTNAME, PER_SPACE, SERVICE_ENV, type WizardPort, type WizardTemplate, type WizardValues, type WizardVolume } from './template-wizard.js';

export type WizardReading = { ok: true; values: WizardValues } | { ok: false; reason: string };

type SavedTemplate = Omit<WizardTemplate, 'shell'> & { platform: Platform; shell?: Shell | null };

class Unrepresentable extends Error {}
function cannot(reason: string): never {
  throw new Unrepresentable(reason);
}

export function readWizardValues(template: SavedTemplate): WizardReading {
  try {
    return { ok: true, values: read(template) };
  } catch (err) {
    if (err instanceof Unrepresentable) return { ok: false, reason: err.message };
    throw err;
  }
}

const JOB_KEYS = ['image', 'command', 'hostname', 'environment', 'volumes', 'memory', 'cpus'];

function read(t: SavedTemplate): WizardValues {
  if (t.platform !== 'DOCKER') cannot('a manual template has no image or services for the wizard to set.');
  if (t.withVSCodeTunnel) cannot('it offers a Visual Studio Code tunnel, which the wizard does not set up.');
  const job = mapping(t.job, 'job');
  if (!job) cannot('its job is empty.');
  const fields = new Map<string, Node | null>();
  for (const pair of job.items) {
    const key = text(pair.key as Node, 'a key of the job');
    if (!JOB_KEYS.includes(key)) cannot(`its job sets "${key}", which the wizard does not edit.`);
    fields.set(key, (pair.value as Node | null) ?? null);
  }
  const image = text(fields.get('image') ?? null, 'the image');
  if (image.includes('${{')) cannot('its image is made from a variable, which the wizard does not edit.');
  const hostname = fields.get('hostname');
  if (hostname !== undefined && text(hostname, 'the hostname') !== HOSTNAME) cannot(`its job sets the hostname to something other than the space's name (${HOSTNAME}).`);

  const env = environment(fields.get('environment') ?? null);
  const service = (name: string) => env.get(name);
  if (t.withCodeServer !== (service(SERVICE_ENV.codeServerPort) !== undefined)) {
    cannot(`Code Server is ${t.withCodeServer ? 'switched on without' : 'switched off with'} ${SERVICE_ENV.codeServerPort} in the job.`);
  }
  if (t.withSSH !== (service(SERVICE_ENV.sshPort) !== undefined)) cannot(`SSH is ${t.withSSH ? 'switched on without' : 'switched off with'} ${SERVICE_ENV.sshPort} in the job.`);

  const volumes = mounts(fields.get('volumes') ?? null);
  const defined = definitions(t.volumes);
  const mounted = volumes.map((v) => v.name);
  if (defined.length !== mounted.length || defined.some((name) => !mounted.includes(name))) {
    cannot('its volume definitions are not exactly the volumes its job mounts.');
  }
  const defaults = { codeServerPort: '13337', desktopPort: '6080', sshPort: '22' };
  return {
    image,
    command: command(fields.get('command') ?? null),
    hostname: hostname !== undefined,
    shell: t.shell ?? '',
    terminal: t.withTerminal,
    codeServer: t.withCodeServer,
    codeServerPort: service(SERVICE_ENV.codeServerPort) ?? defaults.codeServerPort,
    desktop: service(SERVICE_ENV.desktopPort) !== undefined,
    desktopPort: service(SERVICE_ENV.desktopPort) ?? defaults.desktopPort,
    ssh: t.withSSH,
    sshPort: service(SERVICE_ENV.sshPort) ?? defaults.sshPort,
    httpPorts: httpPorts(service(SERVICE_ENV.httpPorts)),
    volumes,
    memory: optionalText(fields.get('memory'), 'the memory'),
    cpus: optionalText(fields.get('cpus'), 'the CPUs'),
    computeUnits: t.computeUnits,
    storageUnits: t.storageUnits,
  };
}

/** The document's top-level mapping; null when it is empty. */
function mapping(source: string, what: string): YAMLMap | null {
  const doc = parseDocument(source);
  if (doc.errors.length) cannot(`its ${what} YAML does not parse (${doc.errors[0]!.message.split('\n')[0]}).`);
  if (hasComments(doc)) cannot(`its ${what} YAML has comments, which the wizard would drop.`);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return null;
  if (!isMap(doc.contents)) cannot(`its ${what} YAML is not a mapping of keys.`);
  return doc.contents;
}

function hasComments(doc: Document): boolean {
  if (doc.commentBefore || doc.comment) return true;
  let found = false;
  visit(doc, {
    Node(_key, node) {
      if (node.commentBefore || node.comment) found = true;
    },
  });
  return found;
}

/** A scalar's text as written (numbers too: `cpus: 1.5` is "1.5"). */
function text(node: Node | null, what: string): string {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') cannot(`${what} is not a plain value.`);
  return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
}

function optionalText(node: Node | null | undefined, what: string): string {
  return node === undefined || (isScalar(node) && node.value === null) ? '' : text(node, what);
}

function command(node: Node | null): string {
  if (node === null || (isScalar(node) && node.value === null)) return '';
  const words = isSeq(node) ? node.items.map((item) => text(item as Node, 'an argument of the command')) : text(node, 'the command').split(/\s+/).filter(Boolean);
  if (isScalar(node) && /["'\\]/.test(String(node.value))) cannot('its command uses quotes, which the wizard\'s command field does not keep.');
  if (words.length === 0 || words.some((w) => w === '' || /\s/.test(w))) cannot('its command has an argument with spaces (or an empty one), which the wizard\'s command field cannot keep apart.');
  if (words.some((w) => w.includes('${{'))) cannot('its command uses variables, which the wizard does not edit.');
  return words.join(' ');
}

const WIZARD_ENV: string[] = Object.values(SERVICE_ENV);

function environment(node: Node | null): Map<string, string> {
  const env = new Map<string, string>();
  if (node === null || (isScalar(node) && node.value === null)) return env;
  const set = (name: string, value: string) => {
    if (!WIZARD_ENV.includes(name)) cannot(`its job sets the environment variable ${name}, which the wizard does not edit.`);
    env.set(name, value.trim());
  };
  if (isMap(node)) for (const pair of node.items) set(text(pair.key as Node, 'an environment variable'), optionalText(pair.value as Node | null, 'an environment value'));
  else if (isSeq(node)) {
    for (const item of node.items) {
      const entry = text(item as Node, 'an environment entry');
      const eq = entry.indexOf('=');
      if (eq <= 0) cannot(`its environment entry "${entry}" is not KEY=value.`);
      set(entry.slice(0, eq).trim(), entry.slice(eq + 1));
    }
  } else cannot('its environment is neither a list nor a mapping.');
  return env;
}

function httpPorts(list: string | undefined): WizardPort[] {
  return (list ?? '')
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((item) => {
      const [port = '', ...name] = item.split('=');
      return { port: port.trim(), name: name.join('=').trim() || port.trim() };
    });
}

function mounts(node: Node | null): WizardVolume[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) cannot('its job\'s volumes are not a list.');
  return node.items.map((item) => {
    const entry = text(item as Node, 'a volume');
    const [source = '', path = '', ...mode] = entry.split(':');
    if (source.startsWith('/')) cannot(`it mounts the host path ${source}, which the wizard does not edit.`);
    if (mode.length) cannot(`it mounts ${source} with options (${mode.join(':')}), which the wizard does not edit.`);
    if (!source.endsWith(PER_SPACE)) cannot(`its volume ${source} is not one per space (named …${PER_SPACE}), which is what the wizard writes.`);
    return { name: source.slice(0, -PER_SPACE.length), path };
  });
}

/** The volume names the volume YAML defines, without the per-space suffix; options are not the wizard's. */
function definitions(source: string): string[] {
  const root = mapping(source, 'volume');
  if (!root) return [];
  const names: string[] = [];
  for (const pair of root.items) {
    if (text(pair.key as Node, 'a key of the volume definitions') !== 'volumes') cannot('its volume YAML has keys other than "volumes".');
    const volumes = pair.value as Node | null;
    if (volumes === null || (isScalar(volumes) && volumes.value === null)) continue;
    if (!isMap(volumes)) cannot('its volume definitions are not a mapping of names.');
    for (const volume of volumes.items) {
      const name = text(volume.key as Node, 'a volume name');
      const options = volume.value as Node | null;
      if (options !== null && !(isScalar(options) && options.value === null)) cannot(`its volume ${name} has options, which the wizard does not edit.`);
      if (!name.endsWith(PER_SPACE)) cannot(`its volume ${name} is not one per space (named …${PER_SPACE}), which is what the wizard writes.`);
      names.push(name.slice(0, -PER_SPACE.length));
    }
  }
  return names;
}
