/**
 * What is wrong with the wizard's values, field by field, before anything is sent: the same rules
 * the server applies to the YAML (protocol/job-values.ts) plus the wizard's own (a name per web
 * port, one volume per name and per path). Keys are the fields' ids: `image`, `httpPorts.0.port`,
 * `volumes.1.path`…
 */
import { isInvalid, parseCpus, parseImage, parseMemory, VOLUME_NAME } from '../../../../protocol/job-values.js';
import { commandWords, type WizardValues } from './template-wizard.js';

export type WizardErrors = Record<string, string>;

/** A template size's bounds, as the server checks them. */
const MAX_SIZE = 1_000_000;
const PORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export function checkWizard(values: WizardValues): WizardErrors {
  const errors: WizardErrors = {};
  const image = values.image.trim();
  if (!image) errors.image = 'Name the image the space runs, like debian:12.';
  else {
    const parsed = parseImage(image);
    if (isInvalid(parsed)) errors.image = sentence(parsed.invalid);
  }
  if (values.command.includes('${{')) errors.command = 'Variables in the command need the YAML editor.';
  else if (/["'\\]/.test(values.command)) errors.command = 'Quotes and backslashes in the command need the YAML editor (each word here is one argument).';
  else if (commandWords(values.command).length === 0 && values.command.length > 0) errors.command = 'Leave the command empty to run the image\'s own.';

  // Every port the space offers, so two services never claim one.
  const taken = new Map<number, string>();
  const claim = (field: string, text: string, what: string) => {
    const port = portNumber(text);
    if (port === null) return void (errors[field] = `${what}: a port is a whole number from 1 to 65535.`);
    const other = taken.get(port);
    if (other) errors[field] = `Port ${port} is already ${other}'s.`;
    else taken.set(port, what);
  };
  if (values.codeServer) claim('codeServerPort', values.codeServerPort, 'Code Server');
  if (values.desktop) claim('desktopPort', values.desktopPort, 'the desktop');
  if (values.ssh) claim('sshPort', values.sshPort, 'SSH');
  const names = new Set<string>();
  values.httpPorts.forEach((p, i) => {
    const name = p.name.trim();
    claim(`httpPorts.${i}.port`, p.port, name || `web port ${i + 1}`);
    if (!PORT_NAME.test(name)) errors[`httpPorts.${i}.name`] = 'Name the port: letters, digits, "_", "." or "-" (at most 32).';
    else if (names.has(name.toLowerCase())) errors[`httpPorts.${i}.name`] = `Another port is named ${name}.`;
    names.add(name.toLowerCase());
  });

  const volumeNames = new Set<string>();
  const paths = new Set<string>();
  values.volumes.forEach((v, i) => {
    const name = v.name.trim();
    const path = v.path.trim();
    if (!VOLUME_NAME.test(name) || name.length > 64) errors[`volumes.${i}.name`] = 'A volume name starts with a letter or digit and has only letters, digits, "_", "." and "-" (at most 64).';
    else if (volumeNames.has(name)) errors[`volumes.${i}.name`] = `Another volume is named ${name}.`;
    volumeNames.add(name);
    if (!path.startsWith('/')) errors[`volumes.${i}.path`] = 'The mount path must be absolute, like /home/dev.';
    else if (/[\s:]/.test(path)) errors[`volumes.${i}.path`] = 'A mount path has no spaces or ":".';
    else if (paths.has(path.replace(/\/+$/, '') || '/')) errors[`volumes.${i}.path`] = `Another volume is mounted at ${path}.`;
    paths.add(path.replace(/\/+$/, '') || '/');
  });

  const memory = values.memory.trim();
  if (memory && isInvalid(parseMemory(memory))) errors.memory = sentence((parseMemory(memory) as { invalid: string }).invalid);
  const cpus = values.cpus.trim();
  if (cpus && isInvalid(parseCpus(cpus))) errors.cpus = sentence((parseCpus(cpus) as { invalid: string }).invalid);
  for (const field of ['computeUnits', 'storageUnits'] as const) {
    const value = values[field];
    if (!Number.isInteger(value) || value < 0 || value > MAX_SIZE) errors[field] = `A whole number from 0 to ${MAX_SIZE.toLocaleString('en-US')}.`;
  }
  return errors;
}

function portNumber(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port >= 1 && port <= 65535 ? port : null;
}

/** The server's phrasing (`"memory" must be …`) as a sentence under the field. */
function sentence(message: string): string {
  const text = message.replace(/^"(\w+)"/, (_m, key: string) => `The ${key}`);
  return text.endsWith('.') ? text : `${text}.`;
}
