import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

// The import rule between top-level folders (docs/ARCHITECTURE.md draws it). Data flows one way; only
// harness/ wires the parts together, so no two folders can import each other.
const ALL = ['contract', 'scenarios', 'load', 'clusters', 'verifiers', 'reports', 'harness', 'reference-app', 'testing', 'tests', 'bench', 'scripts', 'bin'];
const only = (target, allowed, message) => ({
  target: `./${target}`,
  from: ALL.filter((folder) => folder !== target && !allowed.includes(folder)).map((folder) => `./${folder}`),
  message,
});
const RULES = [
  only('contract', [], 'contract/ imports nothing else of the repo.'),
  only('scenarios', ['contract'], 'scenarios/ import only contract/.'),
  only('load', ['contract', 'scenarios'], 'load engines import only contract/ and scenarios/.'),
  only('clusters', ['contract'], 'cluster adapters import only contract/ (never verifiers/, reports/ or harness/).'),
  only('verifiers', ['contract'], 'verifiers/ are pure: they import only contract/.'),
  only('reports', ['contract', 'verifiers'], 'reports/ import only contract/ and verifiers/types.ts.'),
  only('reference-app', [], 'reference-app/ stands alone: it imports nothing outside itself.'),
];
// reports/ may read the verdict types, nothing else of verifiers/.
const REPORTS_VERIFIERS = { target: './reports', from: './verifiers', except: ['./types.ts'], message: 'reports/ import only verifiers/types.ts of verifiers/.' };
// Tests also use the shared test support (testing/) and the harness's timeline file.
const TEST_EXTRAS = ['testing', 'harness'];
const forTests = (rule) => ({ ...rule, from: rule.from.filter((from) => !TEST_EXTRAS.some((extra) => from === `./${extra}`)) });

export default tseslint.config(
  { ignores: ['node_modules/**', 'runs/**', '.tools/**', 'test-artifacts/**', 'reference-app/node_modules/**', 'reference-app/dist/**', 'testing/lint-fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    files: ['**/*.ts', '**/*.js'],
    ignores: ['**/*.test.ts'],
    rules: { 'import/no-restricted-paths': ['error', { zones: [...RULES, REPORTS_VERIFIERS] }] },
  },
  {
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    files: ['**/*.test.ts'],
    rules: { 'import/no-restricted-paths': ['error', { zones: [...RULES.map(forTests), REPORTS_VERIFIERS] }] },
  },
  {
    // Only the CLI entry may end the process (see docs/ERRORS.md).
    files: ['contract/**', 'load/**', 'harness/**', 'clusters/**', 'verifiers/**', 'reports/**'],
    ignores: ['harness/cli.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Throw a SloError; only harness/cli.ts exits.' }] },
  },
);
