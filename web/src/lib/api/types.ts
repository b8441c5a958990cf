/**
 * The shapes the UI reads, each the result type of the fragment that selects it (documents.ts),
 * so they follow schema/schema.graphql and never drift from it.
 */
import type { Permission, ResultOf, Shell } from '../../../../schema/client/graphql.js';
import type { GroupFields, RoleFields, ServerInfoFields, SPACES_CHANGED, SpaceFields, TemplateFields, UsageFields, UserFields, VariableFields } from './documents.js';

export type { Permission, Platform, Shell, SpaceChangeKind, SpaceStatus } from '../../../../schema/client/graphql.js';

export type Role = ResultOf<typeof RoleFields>;
/** `servicePassword` is only selected for the logged-in user's own record. */
export type User = ResultOf<typeof UserFields> & { servicePassword?: string | null };
export type Space = ResultOf<typeof SpaceFields>;
export type SpaceServices = Space['services'];
export type SpacePort = SpaceServices['ports'][number];
/** A change as the list applies it (the owner's usage that comes with it is read apart). */
export type SpaceChange = Omit<ResultOf<typeof SPACES_CHANGED>['spacesChanged'], 'usage'>;
export type Template = ResultOf<typeof TemplateFields>;
export type Variable = ResultOf<typeof VariableFields>;
export type ServerInfo = ResultOf<typeof ServerInfoFields>;
export type Group = ResultOf<typeof GroupFields>;
export type Usage = ResultOf<typeof UsageFields>;

/** Every permission, in the order the admin pages list them (`satisfies` fails when the schema adds one). */
const permissionOrder = {
  MANAGE_SPACES: 0,
  MANAGE_TEMPLATES: 1,
  MANAGE_USERS: 2,
  MANAGE_ROLES: 3,
  MANAGE_VARIABLES: 4,
  VIEW_AUDIT_LOG: 5,
  MANAGE_GROUPS: 6,
  MANAGE_WEBHOOKS: 7,
} as const satisfies Record<Permission, number>;
export const PERMISSIONS = Object.keys(permissionOrder) as Permission[];

/** The shells with their labels (`satisfies` fails when the schema adds one). */
const shellLabels = { bash: 'Bash', zsh: 'Zsh', fish: 'Fish', sh: 'sh' } as const satisfies Record<Shell, string>;
export const SHELLS: readonly { value: Shell; label: string }[] = Object.entries(shellLabels).map(([value, label]) => ({ value: value as Shell, label }));
