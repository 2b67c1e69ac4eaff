import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import hearth from './scripts/eslint-layers.js';

// The core runs in plain Node (CLI, headless server, tests) as well as inside Electron: it must
// never import electron. Only src-main/app and src-main/preload may.
const noElectron = {
  'no-restricted-imports': ['error', {
    paths: [{ name: 'electron', message: 'src-main/core and src-main/cli are plain Node: only src-main/app and src-main/preload may import electron.' }],
    patterns: [{ group: ['electron/*'], message: 'src-main/core and src-main/cli are plain Node: only src-main/app and src-main/preload may import electron.' }],
  }],
};

export default tseslint.config(
  { ignores: ['dist/', 'release/', 'node_modules/', 'bench-report/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}', '**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  { files: ['src-main/core/**/*.ts', 'src-main/cli/**/*.ts'], rules: noElectron },
  // Layers: shared ← base ← domain (in order) ← coordinator ← host ← app/cli; the renderer sees the contract and shared only.
  { files: ['src-main/**/*.{ts,cts}', 'src-renderer/**/*.{ts,svelte}'], plugins: { hearth }, rules: { 'hearth/layers': 'error' } },
  // IPC goes through the typed wrappers of app/ipc.ts only (the preload is their other end).
  {
    files: ['src-main/app/**/*.ts'],
    ignores: ['src-main/app/ipc.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', importNames: ['ipcMain', 'ipcRenderer'], message: 'Use the typed handlers of src-main/app/ipc.ts.' }],
      }],
    },
  },
  { files: ['src-main/preload/**/*.cts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
