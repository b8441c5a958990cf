import type { ServiceReport } from '../spaces/service-report.js';
import { parseJobSpec } from '../templates/job-spec.js';
import type { TemplateRow } from '../templates/store.js';
import { Refusal, type SpaceAccess } from './access.js';
import type { ProxyTarget } from './reverse-proxy.js';

/**
 * The ports of code-server and the VNC web server, which the agent knows from
 * KNOT_CODE_SERVER_PORT and KNOT_VNC_HTTP_PORT and reports next to whether they answer.
 */
type ReportWithServicePorts = ServiceReport & { codeServerPort?: number | null; vncHttpPort?: number | null };

/**
 * What the space's agent last reported: this replica's own copy when the agent is connected here,
 * else the one on the space row (an agent on another replica, reached through it); null when no
 * agent holds the space.
 */
export function reportOf(access: SpaceAccess, reports: { get(spaceId: string): ServiceReport | null }): ReportWithServicePorts | null {
  const report = reports.get(access.space.id) ?? (access.space.agentSession ? access.space.services : null);
  return report as ReportWithServicePorts | null;
}

/** The web port a browser may open: an HTTP or HTTPS port the agent reports. TCP ports are for forwarding only. */
export function webPortTarget(access: SpaceAccess, report: ServiceReport | null, port: number, prefix: string): ProxyTarget | Refusal {
  const offered = report?.ports.find((p) => p.port === port);
  if (!offered) return new Refusal(404, `"${access.space.name}" does not offer port ${port}${offeredList(report)}.`);
  if (offered.protocol === 'TCP') {
    return new Refusal(404, `Port ${port} of "${access.space.name}" is a TCP port; reach it with \`knot forward port <local> ${access.space.name} ${port}\`.`);
  }
  return { spaceId: access.space.id, port, tls: offered.protocol === 'HTTPS', prefix, asker: access.viewer.user.id };
}

/** Any port the agent reports may be forwarded, and the SSH port when SSH answers. */
export function forwardPort(access: SpaceAccess, report: ServiceReport | null, requested: string): number | Refusal {
  if (requested === 'ssh') {
    if (!access.template.withSSH || !report?.ssh || !report.sshPort) return new Refusal(404, `"${access.space.name}" has no SSH server answering.`);
    return report.sshPort;
  }
  const port = Number(requested);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return new Refusal(400, `"${requested}" is not a port number.`);
  if (!report?.ports.some((p) => p.port === port)) return new Refusal(404, `"${access.space.name}" does not offer port ${port}.`);
  return port;
}

export function codeServerTarget(access: SpaceAccess, report: ReportWithServicePorts | null, prefix: string): ProxyTarget | Refusal {
  if (!access.template.withCodeServer || !report?.codeServer) return new Refusal(404, `Code Server is not running in "${access.space.name}".`);
  if (!report.codeServerPort) return new Refusal(502, `The agent of "${access.space.name}" does not say which port Code Server listens on.`);
  return { spaceId: access.space.id, port: report.codeServerPort, tls: false, prefix, asker: access.viewer.user.id };
}

/**
 * The desktop, with the owner's service password as its Basic credential (as knot does for
 * KasmVNC) only when the template itself runs a desktop: a Docker job that sets
 * KNOT_VNC_HTTP_PORT. The credential then goes to that port alone, whatever the agent reports: an
 * agent is software its space controls (a manual space's agent runs on any machine), and one that
 * reported a web page of its own as "the desktop" would otherwise collect the password.
 */
export function desktopTarget(access: SpaceAccess, report: ReportWithServicePorts | null, prefix: string): ProxyTarget | Refusal {
  if (!report?.desktop) return new Refusal(404, `No desktop is running in "${access.space.name}".`);
  const declared = templateDesktopPort(access.template);
  if (declared) {
    const basicAuth = { username: access.owner.username, password: access.owner.servicePassword };
    return { spaceId: access.space.id, port: declared, tls: false, prefix, basicAuth, asker: access.viewer.user.id };
  }
  if (!report.vncHttpPort) return new Refusal(502, `The agent of "${access.space.name}" does not say which port the desktop listens on.`);
  return { spaceId: access.space.id, port: report.vncHttpPort, tls: false, prefix, asker: access.viewer.user.id };
}

/** The desktop port a Docker template's job sets (`KNOT_VNC_HTTP_PORT: "6080"`); null when it sets none. */
export function templateDesktopPort(template: Pick<TemplateRow, 'platform' | 'job'>): number | null {
  if (template.platform !== 'DOCKER') return null;
  let value: string | undefined;
  try {
    value = parseJobSpec(template.job).environment.KNOT_VNC_HTTP_PORT;
  } catch {
    return null;
  }
  const port = Number(value?.trim());
  return value && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : null;
}

function offeredList(report: ServiceReport | null): string {
  const web = (report?.ports ?? []).filter((p) => p.protocol !== 'TCP').map((p) => p.port);
  return web.length ? ` (it offers ${web.join(', ')})` : '';
}
