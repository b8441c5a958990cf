import { PORT_PROTOCOLS, type PortProtocol } from './enums.js';
import { isName, isObject, isPort } from './validate.js';

/** Most ports one report may list. */
const MAX_PORTS = 200;

/** What answers inside a space, as the agent last saw it. */
export interface ServiceReport {
  /** A pty shell can be opened through the agent. */
  terminal: boolean;
  /** code-server's `/healthz` answered 200. */
  codeServer: boolean;
  /** The VNC web port accepted a connection. */
  desktop: boolean;
  /** The SSH port accepted a connection. */
  ssh: boolean;
  sshPort: number | null;
  /** Where code-server and the VNC web server listen while they answer, for the server's proxies. */
  codeServerPort?: number | null;
  vncHttpPort?: number | null;
  /** Set when KNOT_VSCODE_TUNNEL names a tunnel; `connected` says whether it is up. */
  vscodeTunnel: { name: string; connected: boolean } | null;
  /** The configured ports that accepted a connection. */
  ports: { port: number; name: string; protocol: PortProtocol }[];
}

const isProtocol = (v: unknown): v is PortProtocol => (PORT_PROTOCOLS as readonly unknown[]).includes(v);

/** A report as the server accepts it, or null when any field is missing or of the wrong type. */
export function parseReport(v: unknown): ServiceReport | null {
  if (!isObject(v)) return null;
  const { terminal, codeServer, desktop, ssh, sshPort, vscodeTunnel, ports, codeServerPort, vncHttpPort } = v;
  if (typeof terminal !== 'boolean' || typeof codeServer !== 'boolean' || typeof desktop !== 'boolean' || typeof ssh !== 'boolean') return null;
  if (sshPort !== null && !isPort(sshPort)) return null;
  for (const port of [codeServerPort, vncHttpPort]) if (port !== undefined && port !== null && !isPort(port)) return null;
  if (vscodeTunnel !== null && !(isObject(vscodeTunnel) && isName(vscodeTunnel.name) && typeof vscodeTunnel.connected === 'boolean')) return null;
  if (!Array.isArray(ports) || ports.length > MAX_PORTS) return null;
  const parsed: ServiceReport['ports'] = [];
  for (const p of ports) {
    if (!isObject(p) || !isPort(p.port) || !isName(p.name) || !isProtocol(p.protocol)) return null;
    parsed.push({ port: p.port, name: p.name, protocol: p.protocol });
  }
  return {
    terminal,
    codeServer,
    desktop,
    ssh,
    sshPort: sshPort as number | null,
    ...(isPort(codeServerPort) ? { codeServerPort } : {}),
    ...(isPort(vncHttpPort) ? { vncHttpPort } : {}),
    vscodeTunnel: vscodeTunnel ? { name: (vscodeTunnel as { name: string }).name, connected: (vscodeTunnel as { connected: boolean }).connected } : null,
    ports: parsed,
  };
}
