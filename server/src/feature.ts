import type { Router } from './http/router.js';
import type { Services } from './services.js';

/**
 * A part that brings its own routes (agent gateway, terminals, proxies). It registers on the
 * router and may return a dispose() for shutdown. Kept apart from app.ts, which imports every
 * feature, so a feature never has to import the app.
 */
export type Feature = (services: Services, router: Router) => Promise<{ dispose?(): Promise<void> } | void> | { dispose?(): Promise<void> } | void;
