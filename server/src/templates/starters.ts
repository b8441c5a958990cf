/**
 * Starter templates: what a new admin is offered with one click each, so a first space needs no
 * YAML. Each is an ordinary template once created (the admin may edit it like any other). None
 * starts the agent itself: Knot injects it into every Docker space. The images are public ones; an
 * operator who mirrors them (or a test, with local stand-ins) names others in KNOT_STARTER_IMAGES.
 */
import type { TemplateInput } from './store.js';

export const STARTER_IDS = ['shell', 'code-server', 'desktop', 'manual'] as const;
export type StarterId = (typeof STARTER_IDS)[number];

export interface Starter {
  id: StarterId;
  name: string;
  description: string;
  /** What a space made from it offers, one short phrase each, for the card. */
  gives: string[];
  /** The image it runs; null for a manual space (the user's own machine). */
  image: string | null;
  /** Every field but the sizes, which start at 0 (the admin sets them, as quotas are theirs), and the automatic lifecycle (none). */
  template: Required<{ [K in Exclude<keyof TemplateInput, 'shell' | 'computeUnits' | 'storageUnits' | 'schedule' | 'maxUptimeSeconds' | 'idleTimeoutSeconds'>]: NonNullable<TemplateInput[K]> }>;
}

/** The images the starters run unless KNOT_STARTER_IMAGES names others. */
export const DEFAULT_STARTER_IMAGES: Record<Exclude<StarterId, 'manual'>, string> = {
  shell: 'ubuntu:24.04',
  'code-server': 'codercom/code-server:latest',
  desktop: 'lscr.io/linuxserver/webtop:ubuntu-xfce',
};

/** A home volume per space, so work survives a restart or an update of the template. */
const homeVolume = (name: string) => `volumes:\n  ${name}_\${{ .space.id }}:\n`;

const withImage = (image: string, body: string) => `image: ${image}\n${body}`;

function catalog(images: Record<Exclude<StarterId, 'manual'>, string>): Starter[] {
  return [
    {
      id: 'shell',
      name: 'Linux shell',
      description: 'A plain Ubuntu container with a persistent home directory: a terminal in the browser, and SSH through the Knot CLI.',
      gives: ['Web terminal', 'Persistent /root'],
      image: images.shell,
      template: {
        name: 'Linux shell',
        description: 'Ubuntu with a persistent home directory.',
        platform: 'DOCKER',
        job: withImage(
          images.shell,
          [
            '# Keeps the container up; the terminal opens a shell in it.',
            'command: ["sleep", "infinity"]',
            'hostname: ${{ .space.name }}',
            'volumes:',
            '  - home_${{ .space.id }}:/root',
            '',
          ].join('\n'),
        ),
        volumes: homeVolume('home'),
        withTerminal: true,
        withCodeServer: false,
        withVSCodeTunnel: false,
        withSSH: false,
        active: true,
        autoRestart: false,
      },
    },
    {
      id: 'code-server',
      name: 'VS Code in the browser',
      description: 'code-server (VS Code in a browser tab) with a persistent workspace, plus a terminal.',
      gives: ['code-server', 'Web terminal', 'Persistent /home/coder'],
      image: images['code-server'],
      template: {
        name: 'VS Code in the browser',
        description: 'code-server with a persistent home directory.',
        platform: 'DOCKER',
        job: withImage(
          images['code-server'],
          [
            "# The image's entrypoint runs code-server with these arguments (the last --bind-addr wins).",
            '# Only the space owner reaches it, through Knot, so it needs no password of its own.',
            'command: ["--auth", "none", "--bind-addr", "127.0.0.1:13337", "/home/coder"]',
            'hostname: ${{ .space.name }}',
            'environment:',
            '  KNOT_CODE_SERVER_PORT: "13337"',
            'volumes:',
            '  - home_${{ .space.id }}:/home/coder',
            '',
          ].join('\n'),
        ),
        volumes: homeVolume('home'),
        withTerminal: true,
        withCodeServer: true,
        withVSCodeTunnel: false,
        withSSH: false,
        active: true,
        autoRestart: false,
      },
    },
    {
      id: 'desktop',
      name: 'Linux desktop',
      description: 'An XFCE desktop in the browser (KasmVNC), signed in with your service password, plus a terminal.',
      gives: ['Desktop in the browser', 'Web terminal', 'Persistent /config'],
      image: images.desktop,
      template: {
        name: 'Linux desktop',
        description: 'An XFCE desktop over KasmVNC with a persistent home directory.',
        platform: 'DOCKER',
        job: withImage(
          images.desktop,
          [
            "# The image's own init starts the desktop; its web client listens on 3000 and asks for",
            '# CUSTOM_USER/PASSWORD, which Knot sends for the owner (their service password).',
            'hostname: ${{ .space.name }}',
            'environment:',
            '  CUSTOM_USER: ${{ .user.username }}',
            '  PASSWORD: ${{ .user.service_password }}',
            '  TZ: ${{ .user.timezone }}',
            '  KNOT_VNC_HTTP_PORT: "3000"',
            'volumes:',
            '  - config_${{ .space.id }}:/config',
            '',
          ].join('\n'),
        ),
        volumes: homeVolume('config'),
        withTerminal: true,
        withCodeServer: false,
        withVSCodeTunnel: false,
        withSSH: false,
        active: true,
        autoRestart: false,
      },
    },
    {
      id: 'manual',
      name: 'Your own machine',
      description: 'A space for a machine Knot does not run: start the Knot agent there and it appears as RUNNING, with a terminal and SSH.',
      gives: ['Web terminal', 'SSH', 'Runs where you start the agent'],
      image: null,
      template: {
        name: 'Your own machine',
        description: 'A manual space: runs wherever its agent runs.',
        platform: 'MANUAL',
        job: '',
        volumes: '',
        withTerminal: true,
        withCodeServer: false,
        withVSCodeTunnel: false,
        withSSH: true,
        active: true,
        autoRestart: false,
      },
    },
  ];
}

/** The starters with the images this server uses. */
export function starterTemplates(imageOverrides: Partial<Record<string, string>> = {}): Starter[] {
  const images = { ...DEFAULT_STARTER_IMAGES };
  for (const id of Object.keys(images) as Array<keyof typeof images>) images[id] = imageOverrides[id] ?? images[id];
  return catalog(images);
}

/**
 * KNOT_STARTER_IMAGES: `shell=registry.local/ubuntu:24.04,code-server=…`. Unknown ids and empty
 * images are refused at boot, so a typo does not silently leave a starter on the public image.
 */
export function parseStarterImages(value: string | undefined): Partial<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const id = entry.slice(0, eq).trim();
    const image = entry.slice(eq + 1).trim();
    if (eq < 0 || !(id in DEFAULT_STARTER_IMAGES) || !image || /\s/.test(image)) {
      throw new Error(
        `KNOT_STARTER_IMAGES: "${entry}" must be <starter>=<image>, the starter one of ${Object.keys(DEFAULT_STARTER_IMAGES).join(', ')}`,
      );
    }
    out[id] = image;
  }
  return out;
}
