import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** Import patterns (gitignore-style, matched against the import specifier) that cross a boundary. */
const ELECTRON = {
  group: ['electron'],
  message: 'Only the Electron shell (src/main/index.ts, src/preload) imports electron.',
}
const NODE_APIS = {
  group: ['better-sqlite3', 'ws', 'node:*', 'fs', 'path'],
  message: 'This code also runs in the browser: no Node APIs.',
}
const MAIN = { group: ['**/main/**'], message: 'The client engine is reached only through the IPC contract.' }
const SERVER = {
  group: ['**/server/**'],
  message: 'The IM server is reached only through the wire protocol.',
}
const RENDERER = { group: ['**/renderer/**'], message: 'Nothing imports the renderer.' }
const NODE_CODE = {
  group: ['**/node/**'],
  message: 'src/node is Node-only code for the engine and the server.',
}
const boundary = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'release/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  // Import boundaries between the folders of src/ (README.md, "Architecture"). In flat config a later
  // object's no-restricted-imports replaces an earlier one for the same file, so every folder has
  // exactly one object below, with all of its patterns, and their file globs do not overlap.
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: boundary(ELECTRON, NODE_APIS, MAIN, SERVER, NODE_CODE),
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: boundary(ELECTRON, NODE_APIS, MAIN, SERVER, NODE_CODE, RENDERER, {
      group: ['vue', 'pinia', '@xmpp/*'],
      message: 'src/shared is the contract between the folders: zod and plain TypeScript only.',
    }),
  },
  {
    // The web SDK (issue 16) runs in any web page: the wire contract (src/shared) and zod only.
    files: ['src/sdk/**/*.{ts,js}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: boundary(ELECTRON, NODE_APIS, MAIN, SERVER, NODE_CODE, RENDERER, {
      group: ['vue', 'pinia', '@xmpp/*'],
      message: 'The web SDK is framework-free: no Vue, no Pinia.',
    }),
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: boundary(MAIN, SERVER, NODE_CODE, RENDERER),
  },
  {
    // The Electron shell: the one file of the main process that may import electron.
    files: ['src/main/index.ts'],
    rules: boundary(SERVER, RENDERER),
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts'],
    rules: boundary(ELECTRON, SERVER, RENDERER),
  },
  {
    files: ['src/server/**/*.ts'],
    rules: boundary(ELECTRON, MAIN, RENDERER),
  },
  {
    // Node code shared by the engine and the server: it depends on neither.
    files: ['src/node/**/*.ts'],
    rules: boundary(ELECTRON, MAIN, SERVER, RENDERER),
  },
  {
    files: [
      'src/main/**/*.ts',
      'src/server/**/*.ts',
      'src/node/**/*.ts',
      'src/preload/**/*.ts',
      'tests/**/*.ts',
      'e2e/**/*.ts',
      'scripts/**/*.{js,mjs}',
      'bench/**/*.ts',
      'soak/**/*.ts',
      '*.config.{ts,js}',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
    },
  },
  prettier,
)
