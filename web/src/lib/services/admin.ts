import { mutate, query } from '../api/client.js';
import {
  CREATE_ROLE,
  CREATE_USER,
  CREATE_VARIABLE,
  DELETE_ROLE,
  DELETE_VARIABLE,
  REVOKE_USER_SESSIONS,
  ROLES,
  UPDATE_ROLE,
  UPDATE_USER,
  UPDATE_VARIABLE,
  USERS,
  VARIABLES,
} from '../api/documents.js';
import type { Permission, Shell } from '../api/types.js';

export const listUsers = async () => (await query(USERS)).users;
export const listRoles = async () => (await query(ROLES)).roles;
export const listVariables = async () => (await query(VARIABLES)).variables;

export const createUser = (input: { username: string; email: string; password: string; roleIds: string[]; preferredShell?: Shell }) =>
  mutate(CREATE_USER, { input });
export const updateUser = (id: string, input: { active?: boolean; roleIds?: string[] }) => mutate(UPDATE_USER, { id, input });

/** Ends every session and API token of the user (on yourself, all but the one in use). */
export const revokeUserSessions = (id: string) => mutate(REVOKE_USER_SESSIONS, { id });

export const createRole = (name: string, permissions: Permission[]) => mutate(CREATE_ROLE, { name, permissions });
export const updateRole = (id: string, name: string, permissions: Permission[]) => mutate(UPDATE_ROLE, { id, name, permissions });
export const deleteRole = (id: string) => mutate(DELETE_ROLE, { id });

export const createVariable = (name: string, value: string, isProtected: boolean) => mutate(CREATE_VARIABLE, { name, value, protected: isProtected });
/** A protected variable's value is never sent back, so an empty value here means "keep it". */
export const updateVariable = (id: string, value: string | null, isProtected: boolean) =>
  mutate(UPDATE_VARIABLE, { id, value, protected: isProtected });
export const deleteVariable = (id: string) => mutate(DELETE_VARIABLE, { id });

/** Readable permission names for checkboxes and badges. */
export const PERMISSION_LABELS: Record<Permission, string> = {
  MANAGE_SPACES: "Manage everyone's spaces",
  MANAGE_TEMPLATES: 'Manage templates',
  MANAGE_USERS: 'Manage users',
  MANAGE_ROLES: 'Manage roles',
  MANAGE_VARIABLES: 'Manage variables',
  VIEW_AUDIT_LOG: 'View the audit log',
  MANAGE_GROUPS: 'Manage groups and quotas',
  MANAGE_WEBHOOKS: 'Manage webhooks',
};
