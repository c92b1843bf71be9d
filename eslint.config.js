import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

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
  {
    files: ['src/renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // The renderer reaches the engine only through window.im.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'better-sqlite3',
            'ws',
            'electron',
            'node:*',
            'fs',
            'path',
            '**/main/**',
            '**/server/**',
          ],
        },
      ],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['better-sqlite3', 'ws', 'electron', 'vue', 'pinia', 'node:*', 'fs', 'path'] },
      ],
    },
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
