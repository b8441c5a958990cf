/**
 * Whether a request carrying the session cookie comes from Knot's own pages. Browsers send the
 * cookie with same-site requests, and a space's web app served on the wildcard domain
 * (`user--space--port.knot.example.com`) is same-site: without this check it could POST a
 * form (multipart or urlencoded, which needs no CORS preflight) or open a WebSocket and act as
 * whoever visits it. Browsers always send Origin on such requests; its absence means a
 * non-browser client (which holds the cookie itself) or a plain top-level GET.
 */
export function isOwnOrigin(origin: string | null | undefined, host: string | null | undefined, publicUrl: string): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host || origin === new URL(publicUrl).origin;
  } catch {
    return false;
  }
}
