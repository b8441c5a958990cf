import type { Permission, User } from '../api/types.js';

/** Everything the user's roles allow (the built-in Admin role already lists every permission). */
export function permissionsOf(user: Pick<User, 'roles'> | null): Set<Permission> {
  return new Set(user?.roles.flatMap((r) => r.permissions) ?? []);
}
