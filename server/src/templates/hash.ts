import { createHash } from 'node:crypto';

export interface TemplateHashInput {
  job: string;
  volumes: string;
  withTerminal: boolean;
  withCodeServer: boolean;
  withVSCodeTunnel: boolean;
  withSSH: boolean;
}

/**
 * Line endings, trailing spaces and trailing blank lines don't change what a space runs, so they
 * don't change the hash either; otherwise re-saving from another editor would flag every
 * running space "Update available".
 */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

/** What a running space records at start; `updateAvailable` is a difference from the template's. */
export function templateHash(input: TemplateHashInput): string {
  // JSON framing keeps the fields apart: moving text from job to volumes changes the hash.
  const payload = JSON.stringify([
    'knot-template-v1',
    normalise(input.job),
    normalise(input.volumes),
    input.withTerminal,
    input.withCodeServer,
    input.withVSCodeTunnel,
    input.withSSH,
  ]);
  return createHash('sha256').update(payload).digest('hex');
}
