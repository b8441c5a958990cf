export const PERMISSIONS = [
  'MANAGE_USERS',
  'MANAGE_TEMPLATES',
  'MANAGE_SPACES',
  'MANAGE_VARIABLES',
  'MANAGE_ROLES',
  'VIEW_AUDIT_LOG',
  /** Groups, their members, their quotas, and per-user quota overrides. */
  'MANAGE_GROUPS',
  /** Webhooks: where Knot sends events, their secrets, and their delivery logs. */
  'MANAGE_WEBHOOKS',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The built-in Admin role has a fixed id so every replica and every migration agrees on it. */
export const ADMIN_ROLE_ID = '00000000-0000-4000-8000-000000000001';
export const ADMIN_ROLE_NAME = 'Admin';

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * The permissions in `wanted` that `holder` lacks (none for an admin). Nobody grants a permission
 * they lack, or acts on someone who holds one they lack: otherwise managing users or roles would
 * be a way to gain whatever the managed hold.
 */
export function lacking(holder: { isAdmin: boolean; permissions: ReadonlySet<Permission> }, wanted: Iterable<string>): string[] {
  if (holder.isAdmin) return [];
  return [...new Set(wanted)].filter((p) => !holder.permissions.has(p as Permission));
}
