import { homedir } from 'node:os';
import path from 'node:path';
import { OWASP_SCRYPT_COST, type ScryptCost } from './auth/secrets.js';
import { parseStarterImages } from './templates/starters.js';

/** Everything Knot reads from its environment, parsed once. The names are a public contract (README, "Configuration"): renaming one breaks deployments. */
export interface Config {
  port: number;
  dataDir: string;
  /** Unset: an embedded PostgreSQL under dataDir (server/src/embedded-postgres.ts). */
  databaseUrl: string | undefined;
  dockerHost: string | undefined;
  /** KNOT_RUNTIME: `docker` (one engine, the default) or `swarm` (DOCKER_HOST is a swarm manager; docs/scale-out.md). */
  runtime: 'docker' | 'swarm';
  /** DOCKER_CERT_PATH (default ~/.docker) when DOCKER_TLS_VERIFY is set, as the docker CLI reads them: TLS to a tcp:// DOCKER_HOST. */
  dockerCertPath: string | undefined;
  /** KNOT_SWARM_ENGINES (`hostname=DOCKER_HOST,…`): each swarm node's own engine, for its volumes, images and exec. */
  swarmEngines: string | undefined;
  /** KNOT_SWARM_CERT_PATH: TLS for the nodes' tcp:// engines (ca.pem, cert.pem, key.pem; a folder per hostname, or shared). */
  swarmCertPath: string | undefined;
  /** KNOT_SWARM_INSECURE=true: a swarm engine over plain tcp:// is accepted instead of refused at start. */
  swarmInsecure: boolean;
  /** Public URL of the server, as users and agents reach it. */
  url: string;
  /**
   * `*.example.com`: spaces' web content is served on hosts of their own under it, never on Knot's
   * origin. Defaults to `*.localhost` for a server on localhost; `none` turns it off (docs/security.md).
   */
  wildcardDomain: string | undefined;
  /** How agents inside containers reach the server (KNOT_SERVER in a space); defaults from `url`. */
  agentUrl: string;
  /** An agent silent this long counts as gone: its icons disappear and a manual space stops (3× its 5 s report interval). */
  agentTimeoutMs: number;
  logLevel: string;
  /** The bridge network spaces join unless their job names one; containers on it cannot reach each other. */
  spacesNetwork: string;
  /** Bearer token that /metrics asks for; unset: /metrics is off. */
  metricsToken: string | undefined;
  /** Secure cookies only make sense when the public URL is https. */
  secureCookies: boolean;
  /** How often the garbage collector sweeps Docker for objects nothing needs any more. */
  gcIntervalSeconds: number;
  /** How old an object (and its space's last status change) must be before the collector may take it. */
  gcGraceSeconds: number;
  /**
   * scrypt's cost for new password hashes; weaker stored hashes are upgraded at login. Always the
   * OWASP cost, except that a test server may pass a cheaper one (there is no environment variable).
   */
  passwordHashCost: ScryptCost;
  /**
   * Behind a reverse proxy every client has the proxy's address; with KNOT_TRUST_PROXY=true the
   * client is the last address in X-Forwarded-For (the one the proxy added), for the login throttle.
   */
  trustProxy: boolean;
  /** How long a terminal's shell keeps running with no socket attached, so a refresh or a dropped network can reattach. */
  terminalDetachSeconds: number;
  /**
   * How many terminal sessions one user may hold in one space: each is a shell and a replay buffer
   * that outlive their sockets. A test may lower it (there is no environment variable).
   */
  terminalSessionsPerSpace: number;
  /**
   * Events one subscription may have waiting beyond its snapshot before it is caught up with a
   * fresh snapshot instead (server/src/pubsub.ts). A test may lower it (there is no environment variable).
   */
  subscriptionBacklog: number;
  /** KNOT_STARTER_IMAGES: images the starter templates use instead of the public ones (a mirror, or tests' stand-ins). */
  starterImages: Partial<Record<string, string>>;
  /** Wait before the second automatic restart of an unhealthy space; doubles for each one after (the first is at once). */
  healthRestartBackoffSeconds: number;
  /** Automatic restarts of an unhealthy space in a row; then it stays UNHEALTHY and says so. */
  healthRestartLimit: number;
  /** How long before an automatic stop (schedule, maximum uptime, idle) the owner is warned. */
  autoStopWarningSeconds: number;
  /** How often a replica writes the activity it coalesced (terminal input, proxied traffic) per space. */
  activityFlushMs: number;
  /** Single sign-on through an OpenID Connect provider (docs/sso.md); undefined when KNOT_OIDC_ISSUER is unset. */
  oidc: OidcConfig | undefined;
  /** KNOT_LOCAL_LOGIN=false turns username/password login (and the first-run form) off; API tokens keep working. */
  localLogin: boolean;
  /**
   * KNOT_REPLICA_URL: how the other replicas reach this one (relayed terminals, proxies, forwards);
   * unset: `http://<this host's first IPv4 address>:<port>` (docs/scale-out.md).
   */
  replicaUrl: string | undefined;
  /** KNOT_REPLICA_SECRET: the key relay requests are signed with; unset: one kept in the database. */
  replicaSecret: string | undefined;
  /** How often a replica writes its heartbeat; three missed beats and the others stop relaying to it. */
  replicaHeartbeatMs: number;
  /**
   * The injected agent of a running space that died is started again after this wait, doubling
   * for each further death soon after (spaces/agent-revival.ts); tests may shorten it (no environment variable).
   */
  agentRestartBackoffMs: number;
  /** Restarts of an injected agent in a row (each dying within a minute) before Knot gives up until the next start. */
  agentRestartLimit: number;
  /** KNOT_WEBHOOK_ALLOW_PRIVATE=true: webhooks may target private, loopback and link-local addresses (webhooks/url-guard.ts). */
  webhookAllowPrivate: boolean;
  /** The wait before a failed webhook delivery's second attempt (then doubling); tests may shorten it (no environment variable). */
  webhookRetryBaseMs: number;
  /** Attempts per webhook delivery before it is marked failed. */
  webhookMaxAttempts: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim listing the user's groups; unset: Knot's groups are not touched at sign-in. */
  groupsClaim: string | undefined;
  /** The claim a new user's username comes from (then the email's local part). */
  usernameClaim: string;
  /** The button's label: "Sign in with <name>". */
  name: string;
  scopes: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = overrides.port ?? parsePort(env.PORT ?? '3000');
  const url = (overrides.url ?? env.KNOT_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return {
    port,
    dataDir: path.resolve(overrides.dataDir ?? env.KNOT_DATA_DIR ?? './data'),
    databaseUrl: 'databaseUrl' in overrides ? overrides.databaseUrl : env.DATABASE_URL || undefined,
    dockerHost: overrides.dockerHost ?? (env.DOCKER_HOST || undefined),
    runtime: overrides.runtime ?? runtimeKind(env.KNOT_RUNTIME),
    dockerCertPath: 'dockerCertPath' in overrides ? overrides.dockerCertPath : dockerCertPathFrom(env),
    swarmEngines: 'swarmEngines' in overrides ? overrides.swarmEngines : env.KNOT_SWARM_ENGINES || undefined,
    swarmCertPath: 'swarmCertPath' in overrides ? overrides.swarmCertPath : env.KNOT_SWARM_CERT_PATH ? path.resolve(env.KNOT_SWARM_CERT_PATH) : undefined,
    swarmInsecure: overrides.swarmInsecure ?? env.KNOT_SWARM_INSECURE === 'true',
    url,
    // An explicit `wildcardDomain: undefined` override means none (tests of the path routes).
    wildcardDomain: 'wildcardDomain' in overrides ? overrides.wildcardDomain : wildcardDomainFrom(env.KNOT_WILDCARD_DOMAIN, url),
    agentUrl: (overrides.agentUrl ?? env.KNOT_AGENT_URL ?? agentUrlFrom(url)).replace(/\/+$/, ''),
    agentTimeoutMs: overrides.agentTimeoutMs ?? positiveInt(env.KNOT_AGENT_TIMEOUT_MS ?? '15000', 'KNOT_AGENT_TIMEOUT_MS'),
    logLevel: overrides.logLevel ?? env.LOG_LEVEL ?? 'info',
    spacesNetwork: overrides.spacesNetwork ?? (env.KNOT_SPACES_NETWORK || 'knot-spaces'),
    metricsToken: 'metricsToken' in overrides ? overrides.metricsToken : env.KNOT_METRICS_TOKEN || undefined,
    secureCookies: overrides.secureCookies ?? url.startsWith('https://'),
    gcIntervalSeconds: overrides.gcIntervalSeconds ?? seconds(env.KNOT_GC_INTERVAL_SECONDS ?? '60', 'KNOT_GC_INTERVAL_SECONDS', false),
    gcGraceSeconds: overrides.gcGraceSeconds ?? seconds(env.KNOT_GC_GRACE_SECONDS ?? '60', 'KNOT_GC_GRACE_SECONDS', true),
    passwordHashCost: overrides.passwordHashCost ?? OWASP_SCRYPT_COST,
    trustProxy: overrides.trustProxy ?? env.KNOT_TRUST_PROXY === 'true',
    terminalSessionsPerSpace: overrides.terminalSessionsPerSpace ?? 32,
    subscriptionBacklog: overrides.subscriptionBacklog ?? 10_000,
    terminalDetachSeconds: overrides.terminalDetachSeconds ?? seconds(env.KNOT_TERMINAL_DETACH_SECONDS ?? '900', 'KNOT_TERMINAL_DETACH_SECONDS', true),
    starterImages: overrides.starterImages ?? parseStarterImages(env.KNOT_STARTER_IMAGES),
    healthRestartBackoffSeconds:
      overrides.healthRestartBackoffSeconds ?? seconds(env.KNOT_HEALTH_RESTART_BACKOFF_SECONDS ?? '10', 'KNOT_HEALTH_RESTART_BACKOFF_SECONDS', false),
    healthRestartLimit: overrides.healthRestartLimit ?? positiveInt(env.KNOT_HEALTH_RESTART_LIMIT ?? '5', 'KNOT_HEALTH_RESTART_LIMIT'),
    autoStopWarningSeconds:
      overrides.autoStopWarningSeconds ?? seconds(env.KNOT_AUTOSTOP_WARNING_SECONDS ?? '600', 'KNOT_AUTOSTOP_WARNING_SECONDS', true),
    // Not an environment variable: a few seconds keeps the writes cheap and idle stops honest; tests may shorten it.
    activityFlushMs: overrides.activityFlushMs ?? 5_000,
    oidc: 'oidc' in overrides ? overrides.oidc : oidcFrom(env),
    localLogin: overrides.localLogin ?? localLoginFrom(env.KNOT_LOCAL_LOGIN),
    replicaUrl: 'replicaUrl' in overrides ? overrides.replicaUrl : replicaUrlFrom(env.KNOT_REPLICA_URL),
    replicaSecret: 'replicaSecret' in overrides ? overrides.replicaSecret : replicaSecretFrom(env.KNOT_REPLICA_SECRET),
    // Not an environment variable: one small UPDATE every 2 s per replica, and a replica that died
    // without its port refusing (its machine went) is known dead 6 s later; tests may shorten it.
    replicaHeartbeatMs: overrides.replicaHeartbeatMs ?? 2_000,
    // Not environment variables: a second lets a live agent's own reconnect win; five tries over ~30 s.
    agentRestartBackoffMs: overrides.agentRestartBackoffMs ?? 1_000,
    agentRestartLimit: overrides.agentRestartLimit ?? 5,
    webhookAllowPrivate: overrides.webhookAllowPrivate ?? env.KNOT_WEBHOOK_ALLOW_PRIVATE === 'true',
    webhookRetryBaseMs: overrides.webhookRetryBaseMs ?? 10_000,
    webhookMaxAttempts: overrides.webhookMaxAttempts ?? 10,
  };
}

function oidcFrom(env: NodeJS.ProcessEnv): OidcConfig | undefined {
  const issuer = env.KNOT_OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(issuer);
  } catch {
    throw new Error(`KNOT_OIDC_ISSUER must be the provider's URL (https://…), got "${issuer}"`);
  }
  const clientId = env.KNOT_OIDC_CLIENT_ID?.trim();
  if (!clientId) throw new Error('KNOT_OIDC_CLIENT_ID must be set with KNOT_OIDC_ISSUER');
  const clientSecret = env.KNOT_OIDC_CLIENT_SECRET ?? '';
  if (!clientSecret) throw new Error('KNOT_OIDC_CLIENT_SECRET must be set with KNOT_OIDC_ISSUER');
  return {
    issuer,
    clientId,
    clientSecret,
    groupsClaim: env.KNOT_OIDC_GROUPS_CLAIM?.trim() || undefined,
    usernameClaim: env.KNOT_OIDC_USERNAME_CLAIM?.trim() || 'preferred_username',
    name: env.KNOT_OIDC_NAME?.trim() || parsed.hostname,
    scopes: env.KNOT_OIDC_SCOPES?.trim() || 'openid profile email',
  };
}

function localLoginFrom(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  if (!v || v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`KNOT_LOCAL_LOGIN must be true or false, got "${value}"`);
}

/**
 * Browsers resolve every `*.localhost` name to loopback (RFC 6761), so a server on localhost gets
 * hosts of its own for each space without any DNS setup: a fresh `npm start` keeps space content
 * off Knot's origin too.
 */
function wildcardDomainFrom(value: string | undefined, url: string): string | undefined {
  if (value?.trim().toLowerCase() === 'none') return undefined;
  if (value) return value;
  return ['localhost', '127.0.0.1'].includes(new URL(url).hostname) ? '*.localhost' : undefined;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got "${value}"`);
  return n;
}

function seconds(value: string, name: string, zeroAllowed: boolean): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed)) {
    throw new Error(`${name} must be a number of seconds${zeroAllowed ? '' : ' above 0'}, got "${value}"`);
  }
  return n;
}

function replicaUrlFrom(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!/^https?:\/\/[^/]+/.test(value)) throw new Error(`KNOT_REPLICA_URL must be an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}

function replicaSecretFrom(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // Shorter, it could be guessed offline from one signed request.
  if (value.length < 32) throw new Error('KNOT_REPLICA_SECRET must be at least 32 characters (e.g. `openssl rand -base64 32`)');
  return value;
}

/** Inside a container "localhost" is the container itself; Docker maps host.docker.internal to the host. */
function agentUrlFrom(url: string): string {
  const parsed = new URL(url);
  if (['localhost', '127.0.0.1', '[::1]', '0.0.0.0'].includes(parsed.hostname)) parsed.hostname = 'host.docker.internal';
  return parsed.toString();
}

/** As the docker CLI: DOCKER_TLS_VERIFY set to anything but 0 turns TLS on, with the files in DOCKER_CERT_PATH or ~/.docker. */
function dockerCertPathFrom(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.DOCKER_TLS_VERIFY || env.DOCKER_TLS_VERIFY === '0') return undefined;
  return path.resolve(env.DOCKER_CERT_PATH || path.join(homedir(), '.docker'));
}

function runtimeKind(value: string | undefined): Config['runtime'] {
  if (!value || value === 'docker') return 'docker';
  if (value === 'swarm') return 'swarm';
  throw new Error(`KNOT_RUNTIME must be "docker" or "swarm", not "${value}"`);
}
