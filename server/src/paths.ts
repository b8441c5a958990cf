import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout (or image) root: the nearest folder above this module that holds `migrations/`.
 * Found rather than written as `../../..`, because the same code runs from server/src under tsx
 * (tests, `npm run dev`) and bundled into dist/server/main.mjs (`npm start`, the Docker image).
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'migrations')) && existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`Knot's files (migrations/) were not found above ${from}`);
  }
}

export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the root. */
export const fromRoot = (...parts: string[]) => path.join(ROOT, ...parts);
