// ESLint: typescript-eslint's recommended rules plus the type-aware rules that catch money-path bugs
// (a promise nobody awaits, an async callback where a sync one is expected, a switch that forgets a
// case). Formatting is Prettier's job (eslint-config-prettier turns the overlapping rules off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'data/',
      'coverage/',
      'clients/',
      'console/dist/',
      'console/dist-portal/',
      'console/src/api/generated/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      // Idempotency-Key is honoured by an interceptor bound to POST handlers (not globally, see
      // src/idempotency/idempotent-post.decorator.ts): a route declared with Nest's Post would lack it.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@nestjs/common',
              importNames: ['Post'],
              message: 'Declare POST routes with IdempotentPost (src/idempotency/idempotent-post.decorator.ts).',
            },
          ],
        },
      ],
      // Number() reads `0x10`, `1e2`, `+5` and ` 5` as numbers: query integers have one rule.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='Type'] > ArrowFunctionExpression > Identifier[name='Number']",
          message: 'Integer query fields: QueryInteger (src/common/validation/integers.ts), not @Type(() => Number).',
        },
      ],
    },
  },
  {
    // Tests may use `any` for the JSON they inspect.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      globals: globals.node,
    },
  },
  prettier,
);
