#!/usr/bin/env node
// The `knot` command: runs the TypeScript CLI through tsx (a runtime dependency of the server
// already), so there is no build step between editing the CLI and using it.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
