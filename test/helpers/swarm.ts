/**
 * A Docker Swarm on this one machine for tests and benchmarks: a manager and workers, each its own
 * dockerd in its own network namespace (on a bridge of its own) and UTS namespace (its own
 * hostname). The main engine at /var/run/docker.sock is shared by everything else and is never put
 * into swarm mode. Names, subnet and directories are unique per run, so two runs cannot collide;
 * `down()` removes all of it, and is safe to call after a partial `up()` or twice.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { issue, makeCa } from './tls-certs.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface SwarmNodeHandle {
  /** 'mgr', 'w1', 'w2'… */
  role: string;
  hostname: string;
  ip: string;
  /** unix:///run/…/d.sock, for DOCKER_HOST (the tests' own docker commands use it). */
  dockerHost: string;
  /** How Knot reaches it in KNOT_SWARM_ENGINES: the socket, or tcp://<ip>:2376 for a TLS node. */
  knotHost: string;
  netns: string;
  pidFile: string;
}

export interface TestSwarm {
  id: string;
  /** The host's address on the swarm's bridge: where Knot on the host is reached from every node. */
  hostIp: string;
  manager: SwarmNodeHandle;
  workers: SwarmNodeHandle[];
  /** KNOT_SWARM_ENGINES for Knot: every node's hostname and engine. */
  engines: string;
  /** With `tls`: KNOT_SWARM_CERT_PATH, a folder per TLS node's hostname with Knot's client certificate. */
  certPath: string | undefined;
  /** With `tls`: the folder of the CA that signed the nodes' and Knot's certificates (ca.pem, ca-key.pem). */
  caDir: string | undefined;
  docker(node: SwarmNodeHandle, ...args: string[]): Promise<string>;
  /** SIGKILL the node's dockerd, as a crashed host would stop answering. */
  killEngine(node: SwarmNodeHandle): Promise<void>;
  down(): Promise<void>;
}

async function sh(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

const quiet = (p: Promise<unknown>) => p.catch(() => undefined);

/** A /24 under 10.77.0.0/16 that no interface or route on the host uses yet. */
async function freeSubnet(): Promise<string> {
  const routes = await sh('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (let i = 0; i < 50; i++) {
    const prefix = `10.77.${1 + Math.floor(Math.random() * 254)}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('no free 10.77.x.0/24 for a test swarm');
}

/**
 * `tls: true`: the last worker's engine also listens on tcp://<its ip>:2376 with --tlsverify
 * (certificates made by openssl for this run), and Knot is given that address.
 */
export async function startTestSwarm({ workers = 2, images = [] as string[], timeoutMs = 120_000, tls = false } = {}): Promise<TestSwarm> {
  const id = randomBytes(3).toString('hex');
  const prefix = await freeSubnet();
  const bridge = `kbr${id}`;
  const root = `/tmp/knot-swarm-${id}`;
  const hostIp = `${prefix}.1`;
  const forwardRule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
  const roles = ['mgr', ...Array.from({ length: workers }, (_, i) => `w${i + 1}`)];
  const nodes: SwarmNodeHandle[] = roles.map((role, i) => ({
    role,
    hostname: `sw-${id}-${role}`,
    ip: `${prefix}.${11 + i}`,
    dockerHost: `unix:///run/ksw${id}${role}/d.sock`,
    knotHost: tls && i === workers ? `tcp://${prefix}.${11 + i}:2376` : `unix:///run/ksw${id}${role}/d.sock`,
    netns: `ksw${id}${role}`,
    pidFile: `/run/ksw${id}${role}/d.pid`,
  }));
  const docker = (node: SwarmNodeHandle, ...args: string[]) => sh('docker', ['-H', node.dockerHost, ...args]);

  const engineAlive = async (node: SwarmNodeHandle) => {
    if (!existsSync(node.pidFile)) return false;
    return sh('kill', ['-0', readFileSync(node.pidFile, 'utf8').trim()]).then(() => true, () => false);
  };

  const killNetnsProcesses = async (node: SwarmNodeHandle) => {
    // Everything in the node's network namespace (dockerd, containerd, shims) and the containers'
    // first processes under the shims: each is its container's PID-namespace init, so killing it
    // ends the whole container.
    const pids = (await quiet(sh('ip', ['netns', 'pids', node.netns])) as string | undefined)?.split(/\s+/).filter(Boolean) ?? [];
    const children = await Promise.all(pids.map((pid) => quiet(sh('pgrep', ['-P', pid])) as Promise<string | undefined>));
    const all = [...pids, ...children.flatMap((c) => c?.split(/\s+/).filter(Boolean) ?? [])];
    if (all.length) await quiet(sh('kill', ['-9', ...all]));
  };

  const down = async () => {
    for (const node of nodes.slice(1)) await quiet(docker(node, 'swarm', 'leave', '--force'));
    await quiet(docker(nodes[0]!, 'swarm', 'leave', '--force'));
    for (const node of nodes) {
      if (existsSync(node.pidFile)) await quiet(sh('kill', [readFileSync(node.pidFile, 'utf8').trim()]));
    }
    await quiet(waitFor(async () => (await Promise.all(nodes.map(engineAlive))).every((alive) => !alive), { timeout: 20_000, what: 'the swarm engines to exit' }));
    for (const node of nodes) await killNetnsProcesses(node);
    for (const node of nodes) {
      await quiet(sh('ip', ['netns', 'del', node.netns]));
      rmSync(`/run/ksw${id}${node.role}`, { recursive: true, force: true });
    }
    await quiet(sh('ip', ['link', 'del', bridge]));
    await quiet(sh('iptables', ['-D', ...forwardRule]));
    await quiet(sh('rm', ['-rf', root]));
  };

  const caDir = tls ? `${root}/certs/ca` : undefined;
  const certPath = tls ? `${root}/certs/knot` : undefined;
  try {
    mkdirSync(root, { recursive: true });
    const tlsFlags = new Map<string, string>();
    if (caDir && certPath) {
      await makeCa(caDir, `knot-test-ca-${id}`);
      for (const node of nodes.filter((n) => n.knotHost.startsWith('tcp://'))) {
        const server = await issue(caDir, `${root}/certs/${node.role}-engine`, { name: node.hostname, ips: [node.ip] });
        await issue(caDir, `${certPath}/${node.hostname}`, { name: 'knot' });
        tlsFlags.set(node.role, ` -H ${node.knotHost} --tlsverify --tlscacert ${server}/ca.pem --tlscert ${server}/cert.pem --tlskey ${server}/key.pem`);
      }
    }
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${hostIp}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
    // The main engine sets FORWARD's policy to DROP; with br_netfilter that drops traffic between
    // the nodes on this bridge too. This run's own rule lets it through, and goes in down().
    await sh('iptables', ['-I', ...forwardRule]);
    for (const node of nodes) {
      const veth = `kv${id}${node.role}`;
      await sh('ip', ['netns', 'add', node.netns]);
      await sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns]);
      await sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
      await sh('ip', ['-n', node.netns, 'addr', 'add', `${node.ip}/24`, 'dev', 'eth0']);
      await sh('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'up']);
      await sh('ip', ['-n', node.netns, 'link', 'set', 'lo', 'up']);
      await sh('ip', ['-n', node.netns, 'route', 'add', 'default', 'via', hostIp]);
      const data = `${root}/${node.role}`;
      const run = `/run/ksw${id}${node.role}`;
      mkdirSync(data, { recursive: true });
      mkdirSync(run, { recursive: true });
      // nsenter --net, not `ip netns exec` (that remounts /sys and dockerd fails on cgroups). A
      // private mount namespace keeps the engine's mounts out of the host's; a UTS namespace gives
      // it its own hostname. Its iptables rules live in its own network namespace. With
      // DOCKER_SERVICE_PREFER_OFFLINE_IMAGE, a task uses the image on its node instead of first
      // asking a registry this machine cannot reach. The engine keeps its default bridge, as on any
      // host: a plain `docker service create` (the start bench's floor) puts its task there.
      const script = `hostname ${node.hostname}; exec dockerd --data-root ${data}/data --exec-root ${run}/x -H ${node.dockerHost} --pidfile ${node.pidFile}${tlsFlags.get(node.role) ?? ''}`;
      const child = spawn('setsid', ['nsenter', `--net=/var/run/netns/${node.netns}`, 'unshare', '--uts', '--mount', 'sh', '-c', script], {
        stdio: 'ignore',
        detached: true,
        env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
      });
      child.unref();
    }
    await waitFor(async () => (await Promise.all(nodes.map((n) => docker(n, 'version', '--format', '{{.Server.Version}}').then(() => true, () => false)))).every(Boolean), {
      timeout: timeoutMs,
      interval: 250,
      what: 'the swarm engines to answer',
    });
    const [manager, ...rest] = nodes as [SwarmNodeHandle, ...SwarmNodeHandle[]];
    await docker(manager, 'swarm', 'init', '--advertise-addr', manager.ip, '--listen-addr', `${manager.ip}:2377`);
    // The manager only manages: spaces go to the workers.
    await docker(manager, 'node', 'update', '--availability', 'drain', manager.hostname);
    const token = await docker(manager, 'swarm', 'join-token', '-q', 'worker');
    await Promise.all(
      rest.map(async (w) => {
        // A join can time out on a loaded machine and keep trying in the background; wait for it either way.
        await quiet(docker(w, 'swarm', 'join', '--token', token, `${manager.ip}:2377`));
        await waitFor(async () => (await docker(w, 'info', '--format', '{{.Swarm.LocalNodeState}}')) === 'active', { timeout: timeoutMs, interval: 250, what: `${w.hostname} to join` });
      }),
    );
    await waitFor(async () => (await docker(manager, 'node', 'ls', '--format', '{{.Status}}')).split('\n').filter((s) => s === 'Ready').length === nodes.length, {
      timeout: timeoutMs,
      interval: 250,
      what: 'every node to be Ready',
    });
    for (const image of images) {
      for (const w of rest) await sh('sh', ['-c', `docker save ${image} | docker -H ${w.dockerHost} load`], { timeoutMs });
    }
    return {
      id,
      hostIp,
      manager,
      workers: rest,
      engines: rest.map((w) => `${w.hostname}=${w.knotHost}`).join(','),
      certPath,
      caDir,
      docker,
      async killEngine(node) {
        await sh('kill', ['-9', readFileSync(node.pidFile, 'utf8').trim()]);
      },
      down,
    };
  } catch (err) {
    await down();
    throw err;
  }
}
