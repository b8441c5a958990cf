/** The GraphQL shapes the UI reads (schema/schema.graphql is the source of truth). */

export type Permission = 'MANAGE_ROLES' | 'MANAGE_SPACES' | 'MANAGE_TEMPLATES' | 'MANAGE_USERS' | 'MANAGE_VARIABLES' | 'VIEW_AUDIT_LOG';
export const PERMISSIONS: readonly Permission[] = ['MANAGE_SPACES', 'MANAGE_TEMPLATES', 'MANAGE_USERS', 'MANAGE_ROLES', 'MANAGE_VARIABLES', 'VIEW_AUDIT_LOG'];

export type Shell = 'bash' | 'zsh' | 'fish' | 'sh';
export const SHELLS: readonly { value: Shell; label: string }[] = [
  { value: 'bash', label: 'Bash' },
  { value: 'zsh', label: 'Zsh' },
  { value: 'fish', label: 'Fish' },
  { value: 'sh', label: 'sh' },
];

export type SpaceStatus = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'DELETING' | 'FAILED';
export type SpaceChangeKind = 'SNAPSHOT' | 'CREATED' | 'STATUS' | 'PULL_PROGRESS' | 'RENAMED' | 'TEMPLATE_CHANGED' | 'SERVICES' | 'DELETED';
export type Platform = 'DOCKER' | 'MANUAL';

export interface Role {
  id: string;
  name: string;
  builtIn: boolean;
  permissions: Permission[];
}

export interface User {
  id: string;
  username: string;
  email: string;
  active: boolean;
  preferredShell: Shell;
  timezone: string;
  sshPublicKey: string;
  /** Only present for the logged-in user's own record. */
  servicePassword?: string | null;
  roles: Role[];
}

export interface SpacePort {
  name: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS' | 'TCP';
  url: string | null;
}

export interface SpaceServices {
  terminal: boolean;
  codeServer: boolean;
  desktop: boolean;
  ssh: boolean;
  vscodeTunnel: { name: string; connected: boolean } | null;
  ports: SpacePort[];
}

export interface Space {
  id: string;
  name: string;
  shell: Shell;
  altNames: string[];
  status: SpaceStatus;
  error: string | null;
  pullProgress: number | null;
  updateAvailable: boolean;
  template: { id: string; name: string; platform: Platform };
  owner: { id: string };
  services: SpaceServices;
}

export interface SpaceChange {
  kind: SpaceChangeKind;
  spaceId: string;
  space: Space | null;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  platform: Platform;
  job: string;
  volumes: string;
  withTerminal: boolean;
  withCodeServer: boolean;
  withVSCodeTunnel: boolean;
  withSSH: boolean;
  active: boolean;
}

export interface Variable {
  id: string;
  name: string;
  protected: boolean;
  value: string | null;
}

export interface ServerInfo {
  setupRequired: boolean;
  url: string;
  wildcardDomain: string | null;
}
