/**
 * Secret values (protected variables, a user's service password) are rendered into a template's
 * fields, and a field's problem is reported with its value ("image … not …", a failed pull naming
 * the image). Every such message passes through here before it reaches an error, a space's
 * `error`, a log line or the audit log.
 */
export const REDACTED = '[protected]';

export function redactSecrets(text: string, secrets: Iterable<string>): string {
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of ordered) out = out.split(secret).join(REDACTED);
  return out;
}
