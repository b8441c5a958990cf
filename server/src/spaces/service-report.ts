/**
 * What an agent last reported as answering inside a space (filled by the agent gateway). Kept in
 * memory: it is live state, and it vanishes with the agent's connection.
 */
export interface ServiceReport {
  codeServer: boolean;
  desktop: boolean;
  ssh: boolean;
  sshPort: number | null;
  vscodeTunnel: { name: string; connected: boolean } | null;
  ports: { port: number; name: string; protocol: 'HTTP' | 'HTTPS' | 'TCP' }[];
  terminal: boolean;
}

export interface ServiceReports {
  get(spaceId: string): ServiceReport | null;
}

export const noReports: ServiceReports = { get: () => null };
