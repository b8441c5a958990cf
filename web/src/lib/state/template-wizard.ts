/**
 * The template wizard's values and the template they make. The wizard writes the same YAML an
 * admin would: services are the agent's KNOT_*_PORT variables (as the starter templates declare
 * them), each volume is per space (`name_${{ .space.id }}`), defined in the volume YAML too.
 * template-wizard-read.ts turns a saved template back into these values.
 */
import type { Shell } from '../api/types.js';

/** An extra web port of the space, shown as an icon under its name. */
export interface WizardPort {
  port: string;
  name: string;
}

/** A named volume mounted at `path`; the wizard makes its name unique per space. */
export interface WizardVolume {
  name: string;
  path: string;
}

/** What the wizard asks. Numbers are kept as typed (text), so a wrong one can be shown, not lost. */
export interface WizardValues {
  image: string;
  /** Words separated by spaces; empty keeps the image's own command. */
  command: string;
  /** The container's host name is the space's name (`hostname: ${{ .space.name }}`). */
  hostname: boolean;
  /** Empty: each owner's preferred shell. */
  shell: Shell | '';
  terminal: boolean;
  codeServer: boolean;
  codeServerPort: string;
  desktop: boolean;
  desktopPort: string;
  ssh: boolean;
  sshPort: string;
  httpPorts: WizardPort[];
  volumes: WizardVolume[];
  /** Docker's sizes (`2g`); empty: no limit. */
  memory: string;
  /** A CPU count (`1.5`); empty: no limit. */
  cpus: string;
  computeUnits: number;
  storageUnits: number;
}

/** The template fields the wizard decides. */
export interface WizardTemplate {
  job: string;
  volumes: string;
  shell: Shell | null;
  withTerminal: boolean;
  withCodeServer: boolean;
  withVSCodeTunnel: boolean;
  withSSH: boolean;
  computeUnits: number;
  storageUnits: number;
}

/** The agent's variables for each service (agent/src/config.ts reads them). */
export const SERVICE_ENV = {
  codeServerPort: 'KNOT_CODE_SERVER_PORT',
  desktopPort: 'KNOT_VNC_HTTP_PORT',
  sshPort: 'KNOT_SSH_PORT',
  httpPorts: 'KNOT_HTTP_PORT',
} as const;

/** Appended to every volume name so each space gets its own. */
export const PER_SPACE = '_${{ .space.id }}';
export const HOSTNAME = '${{ .space.name }}';

export function newWizardValues(image = ''): WizardValues {
  return {
    image,
    command: 'sleep infinity',
    hostname: true,
    shell: '',
    terminal: true,
    codeServer: false,
    codeServerPort: '13337',
    desktop: false,
    desktopPort: '6080',
    ssh: false,
    sshPort: '22',
    httpPorts: [],
    volumes: [{ name: 'home', path: '/root' }],
    memory: '',
    cpus: '',
    computeUnits: 0,
    storageUnits: 0,
  };
}

/** A YAML double-quoted scalar (JSON's string syntax is valid YAML). */
const quote = (text: string) => JSON.stringify(text);

/** The job and volume YAML, and the template fields, for these values (check them first). */
export function wizardTemplate(values: WizardValues): WizardTemplate {
  const job = [`image: ${values.image.trim()}`];
  const words = commandWords(values.command);
  if (words.length) job.push(`command: [${words.map(quote).join(', ')}]`);
  if (values.hostname) job.push(`hostname: ${HOSTNAME}`);

  const env: Array<[string, string]> = [];
  if (values.codeServer) env.push([SERVICE_ENV.codeServerPort, values.codeServerPort.trim()]);
  if (values.desktop) env.push([SERVICE_ENV.desktopPort, values.desktopPort.trim()]);
  if (values.ssh) env.push([SERVICE_ENV.sshPort, values.sshPort.trim()]);
  if (values.httpPorts.length) env.push([SERVICE_ENV.httpPorts, values.httpPorts.map((p) => `${p.port.trim()}=${p.name.trim()}`).join(',')]);
  if (env.length) job.push('environment:', ...env.map(([name, value]) => `  ${name}: ${quote(value)}`));

  if (values.volumes.length) job.push('volumes:', ...values.volumes.map((v) => `  - ${v.name.trim()}${PER_SPACE}:${v.path.trim()}`));
  if (values.memory.trim()) job.push(`memory: ${values.memory.trim()}`);
  if (values.cpus.trim()) job.push(`cpus: ${values.cpus.trim()}`);

  const volumes = values.volumes.length ? ['volumes:', ...values.volumes.map((v) => `  ${v.name.trim()}${PER_SPACE}:`)].join('\n') + '\n' : '';
  return {
    job: job.join('\n') + '\n',
    volumes,
    shell: values.shell || null,
    withTerminal: values.terminal,
    withCodeServer: values.codeServer,
    withVSCodeTunnel: false,
    withSSH: values.ssh,
    computeUnits: values.computeUnits,
    storageUnits: values.storageUnits,
  };
}

export function commandWords(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}
