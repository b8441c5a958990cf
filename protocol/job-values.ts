/**
 * Job spec values that the server checks at save and a client may check as they are typed (the
 * template wizard): the same rule in both places, so what the form accepts the server accepts.
 * Each parser returns the value or why it is refused.
 */

export interface Invalid {
  invalid: string;
}

export function isInvalid(value: unknown): value is Invalid {
  return typeof value === 'object' && value !== null && 'invalid' in value;
}

export const invalid = (message: string): Invalid => ({ invalid: message });

/** Docker's own rule for volume names. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
// Docker refuses smaller limits when the container is created; say so at save instead.
const MIN_MEMORY = 6 * 1024 ** 2;

/** Docker's binary sizes: `512m`, `2g`, `1.5GB`, `2GiB`, or plain bytes. */
export function parseMemory(value: string): number | Invalid {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgtp])?(?:i?b)?$/i.exec(value);
  const bad = `"memory" must be a size like 512m or 2g, not "${value}"`;
  if (!match) return invalid(bad);
  const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
  if (!Number.isSafeInteger(bytes)) return invalid(bad);
  if (bytes < MIN_MEMORY) return invalid(`"memory" must be at least 6m (Docker's minimum), not "${value}"`);
  return bytes;
}

/** A CPU count like 1.5, as Docker's NanoCpus. */
export function parseCpus(value: string): number | Invalid {
  const cpus = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : NaN;
  const nano = Math.round(cpus * 1e9);
  if (!(nano > 0) || !Number.isSafeInteger(nano)) return invalid(`"cpus" must be a number of CPUs greater than 0 like 1.5, not "${value}"`);
  return nano;
}

// Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest], the
// path in lower case. Checked after variables are rendered.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** An image reference Docker can pull, like `debian:12` or `registry.local:5000/team/dev@sha256:…`. */
export function parseImage(value: string): string | Invalid {
  if (value.length <= 255 && IMAGE_REFERENCE.test(value)) return value;
  return invalid(`"image" must be an image reference like debian:12 or registry.example.com/team/image:tag (lower case, no spaces), not "${value}"`);
}
