export * from './users.js';
export * from './auth.js';
export * from './templates.js';
export * from './spaces.js';
export * from './audit.js';
export * from './installation.js';
export * from './port-tickets.js';
export * from './groups.js';
