import type { Space } from '../../web/src/lib/api/types.js';

/** A space as the UI receives it, stopped and with no services, with `overrides` applied. */
export function space(overrides: Partial<Space> & { id: string }): Space {
  return {
    name: overrides.id,
    shell: 'bash',
    altNames: [],
    status: 'STOPPED',
    error: null,
    pullProgress: null,
    updateAvailable: false,
    health: 'UNKNOWN',
    healthReason: null,
    autoStopAt: null,
    autoStopReason: null,
    autoStopWarning: false,
    stoppedReason: null,
    template: { id: 't1', name: 'Busybox', platform: 'DOCKER' },
    owner: { id: 'me', username: 'me' },
    sharedWith: [],
    services: { terminal: false, codeServer: false, codeServerUrl: null, desktop: false, desktopUrl: null, ssh: false, vscodeTunnel: null, ports: [] },
    ...overrides,
  };
}
