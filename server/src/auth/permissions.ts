export const PERMISSIONS = [
  'MANAGE_USERS',
  'MANAGE_TEMPLATES',
  'MANAGE_SPACES',
  'MANAGE_VARIABLES',
  'MANAGE_ROLES',
  'VIEW_AUDIT_LOG',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The built-in Admin role has a fixed id so every replica and every migration agrees on it. */
export const ADMIN_ROLE_ID = '00000000-0000-4000-8000-000000000001';
export const ADMIN_ROLE_NAME = 'Admin';

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
