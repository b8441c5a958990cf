import { describe, expect, it } from 'vitest';
import { redirectFor, safeNext } from '../../web/src/lib/state/route-guard.js';
import { permissionsOf } from '../../web/src/lib/state/permissions.js';

describe('where a visitor is sent', () => {
  it('sends everyone to the first-run form until Knot has an admin', () => {
    expect(redirectFor({ setupRequired: true, loggedIn: false }, '/spaces')).toBe('/setup');
    expect(redirectFor({ setupRequired: true, loggedIn: false }, '/setup')).toBeNull();
  });

  it('sends a visitor to the login form and back to the page they wanted', () => {
    expect(redirectFor({ setupRequired: false, loggedIn: false }, '/templates', '?x=1')).toBe('/login?next=%2Ftemplates%3Fx%3D1');
    expect(redirectFor({ setupRequired: false, loggedIn: false }, '/')).toBe('/login');
    expect(redirectFor({ setupRequired: false, loggedIn: false }, '/setup')).toBe('/login');
    expect(redirectFor({ setupRequired: false, loggedIn: true }, '/login', '?next=%2Ftemplates')).toBe('/templates');
  });

  it('leaves a logged-in user where they are, and takes them from / to Spaces', () => {
    expect(redirectFor({ setupRequired: false, loggedIn: true }, '/profile')).toBeNull();
    expect(redirectFor({ setupRequired: false, loggedIn: true }, '/')).toBe('/spaces');
  });

  it('keeps a user who must set up two-factor sign-in on My Profile', () => {
    const held = { setupRequired: false, loggedIn: true, mustEnrolTotp: true };
    expect(redirectFor(held, '/spaces')).toBe('/profile');
    expect(redirectFor(held, '/login', '?next=%2Ftemplates')).toBe('/profile');
    expect(redirectFor(held, '/profile')).toBeNull();
  });

  it('never follows a `next` to another site', () => {
    expect(safeNext('//evil.example.com/x')).toBe('/spaces');
    expect(safeNext('https://evil.example.com')).toBe('/spaces');
    expect(safeNext('/admin/users')).toBe('/admin/users');
  });
});

describe('permissions from roles', () => {
  it('is the union of the roles, nothing without roles', () => {
    expect([...permissionsOf({ roles: [] })]).toEqual([]);
    expect(permissionsOf(null).size).toBe(0);
    const both = permissionsOf({
      roles: [
        { id: '1', name: 'Spaces', builtIn: false, permissions: ['MANAGE_SPACES'] },
        { id: '2', name: 'Templates', builtIn: false, permissions: ['MANAGE_TEMPLATES', 'MANAGE_SPACES'] },
      ],
    });
    expect([...both].sort()).toEqual(['MANAGE_SPACES', 'MANAGE_TEMPLATES']);
  });
});
