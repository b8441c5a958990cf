// `npm run lint`. Real defects only (import cycles, layer breaks, unused code, unhandled promises);
// formatting and style are left to the author. docs/architecture.md explains the layers.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Imports a folder must not make: files under `folder` may not import anything under `forbidden`
 * (schema/client, the clients' typed GraphQL, is open to the web UI and the CLI).
 */
const layers = [
  // The shared contract is imported by everyone and imports no one.
  { folder: 'protocol', forbidden: ['server', 'agent', 'cli', 'web', 'schema', 'test', 'bench'], message: 'protocol/ is the shared contract: it imports nothing of the parts that use it.' },
  // The tables describe data; they know nothing of the server that uses them.
  { folder: 'schema', forbidden: ['server', 'agent', 'cli', 'web', 'test', 'bench'], message: 'schema/ holds tables and the SDL only; put shared types in protocol/.' },
  // The agent is bundled into every space: nothing of the server may leak into it.
  { folder: 'agent', forbidden: ['server', 'cli', 'web', 'schema'], message: 'The agent is bundled on its own; share code through protocol/.' },
  // The clients talk to the server through its GraphQL API only.
  { folder: 'cli', forbidden: ['server', 'agent', 'web', 'schema'], message: 'The CLI is a client of the GraphQL API: its types come from schema/client, shared code from protocol/.' },
  { folder: 'web', forbidden: ['server', 'agent', 'cli', 'schema', 'test'], message: 'The web UI is a client of the GraphQL API: its types come from schema/client.' },
  // The server never reaches into its clients.
  { folder: 'server', forbidden: ['agent', 'cli', 'web', 'test', 'bench'], message: 'The server does not import its clients or its tests.' },
].map(({ folder, forbidden, message }) => ({
  target: `./${folder}`,
  from: forbidden.map((f) => `./${f}`),
  except: forbidden.includes('schema') && (folder === 'cli' || folder === 'web') ? ['./client'] : [],
  message,
}));

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'web/build/**', 'web/.svelte-kit/**', 'test/e2e/artifacts/**', 'data/**', 'migrations/**', '**/*.svelte'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,js,mjs}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // Without these, import-x skips .ts modules and no-cycle sees no edges at all.
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: ['tsconfig.json', 'web/tsconfig.json'], noWarnOnMultipleProjects: true })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      // A promise nobody awaits loses its error: an unhandled rejection, or a write that silently did not happen.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Input checks reject control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Plain JavaScript build scripts and configs are not in a tsconfig project.
    files: ['**/*.{js,mjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: globals.node,
    },
  },
);
