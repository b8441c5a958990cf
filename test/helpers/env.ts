/** Where the provisioned services are (.ci/run starts them; scripts/ci/* start them by hand). */
export const TEST_DATABASE_URL = process.env.KNOT_TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
export const TEST_REGISTRY = process.env.KNOT_TEST_REGISTRY ?? '127.0.0.1:5000';
export const TEST_CHROMIUM = process.env.KNOT_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const BUSYBOX_IMAGE = 'knot-test/busybox:latest';
export const NODE_IMAGE = 'knot-test/node:latest';
/** Without Node.js: a glibc image (busybox + bash) and a musl one (busybox + musl, standing in for Alpine). */
export const GLIBC_IMAGE = 'knot-test/glibc:latest';
export const MUSL_IMAGE = 'knot-test/musl:latest';
/**
 * scrypt at the OWASP cost takes a core for a good part of a second per hash, and the suite makes
 * hundreds of users and logins: test servers hash cheaply. test/security/password-hashing.test.ts
 * proves the default is the OWASP cost.
 */
export const TEST_PASSWORD_HASH_COST = { logN: 10, r: 8, p: 1 };
