import { createHash } from 'node:crypto';

/**
 * Headers on every page Knot itself serves (the web UI, GraphiQL): no MIME sniffing, Knot's paths
 * never leak to other sites in a Referer (`same-origin` still sends the Origin that /graphql
 * checks), and no other site may frame Knot (clickjacking).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/** The contents of every inline `<script>` (no `src`) in an HTML page, as the browser hashes them. */
export function inlineScripts(html: string): string[] {
  const scripts: string[] = [];
  for (const match of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    if (!/\ssrc\s*=/i.test(match[1] ?? '')) scripts.push(match[2]!);
  }
  return scripts;
}

export function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

/**
 * A Content-Security-Policy for one of Knot's pages: scripts only from Knot and the inline scripts
 * it wrote (by hash, so an injected one never runs), connections only back to Knot, no plugins,
 * no framing. Styles may be inline: Svelte sets style attributes, and a style cannot run code.
 */
export function pagePolicy(inline: readonly string[], extra: { workers?: string } = {}): string {
  const hashes = [...new Set(inline.map(scriptHash))];
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    `worker-src ${extra.workers ?? "'self'"}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
