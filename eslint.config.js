// `npm run lint` (part of `npm test`): typescript-eslint and eslint-plugin-vue's recommended rules,
// and the layer boundaries of docs/ARCHITECTURE.md as import rules — a file that imports across a
// boundary it must not cross fails the lint with the rule's message.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

/** `no-restricted-imports` patterns: the folders a layer must not import, with why. */
const forbid = (folders, why) =>
  folders.map((f) => ({
    group: [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`, `**/src-main/${f}/**`],
    message: `${why} (docs/ARCHITECTURE.md, "Layers").`,
  }));
const electronOnly = { name: 'electron', message: "Only src-main/electron imports 'electron' (docs/ARCHITECTURE.md)." };

const layer = (files, folders, why, extra = {}) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { paths: [electronOnly, ...(extra.paths ?? [])], patterns: [...forbid(folders, why), ...(extra.patterns ?? [])] },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist-main/**',
      'dist-renderer/**',
      'release/**',
      'node_modules/**',
      'test-results/**',
      'coverage/**',
      '.scratch/**',
      'src-main/formats/onnx-proto.ts',
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
    languageOptions: { globals: { ...globals.node, ...globals.browser }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // The codebase's own conventions
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          caughtErrors: 'none',
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
      // Errors are re-worded for users on purpose (the original stays in logs where it matters)
      'preserve-caught-error': 'off',
      'no-useless-assignment': 'off',
      // Layout and wording are the formatter's business, not the linter's
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/first-attribute-linebreak': 'off',
      'vue/attributes-order': 'off',
      'vue/multi-word-component-names': 'off',
    },
  },
  layer(
    ['src-main/contract/**'],
    ['engine', 'host', 'trainer', 'datasets', 'serve', 'electron', 'cli'],
    'The contract imports only the schema library',
    {
      patterns: [
        {
          group: ['node:*', 'fs', 'path', '@tensorflow/*', 'sharp'],
          message: 'The contract runs in the renderer too: no Node or native imports (docs/ARCHITECTURE.md).',
        },
      ],
    },
  ),
  layer(
    ['src-main/fs-safety/**'],
    ['contract', 'engine', 'formats', 'cluster', 'host', 'trainer', 'datasets', 'serve', 'electron', 'cli'],
    'The file-system safety imports nothing of the studio',
  ),
  layer(
    ['src-main/engine/**'],
    ['host', 'trainer', 'serve', 'electron', 'cli', 'datasets'],
    'The engine imports only the contract and the file-system safety',
    {
      patterns: forbid(['formats', 'cluster'], 'The engine does not import the model formats or the cluster jobs'),
    },
  ),
  layer(
    ['src-main/formats/**'],
    ['cluster', 'host', 'trainer', 'serve', 'electron', 'cli', 'datasets'],
    'The model formats import only the engine, the contract and the file-system safety',
  ),
  layer(
    ['src-main/cluster/**'],
    ['host', 'trainer', 'serve', 'electron', 'cli', 'datasets'],
    'The cluster jobs import only the engine, the model formats, the contract and the file-system safety',
  ),
  layer(
    ['src-main/datasets/**'],
    ['host', 'trainer', 'serve', 'electron', 'cli'],
    'Datasets import only the engine, the contract and the file-system safety',
  ),
  layer(
    ['src-main/trainer/**'],
    ['host', 'serve', 'electron', 'cli'],
    'The trainer process does not import the host or its transports',
  ),
  layer(['src-main/host/**'], ['serve', 'electron', 'cli'], 'The host knows no transport'),
  layer(['src-main/serve/**'], ['electron', 'cli'], 'Serve mode does not import the Electron layer'),
  layer(['src-main/cli/**'], ['electron', 'serve'], 'The CLI does not import a transport'),
  {
    files: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: forbid(['serve', 'cli'], 'The Electron layer does not import serve mode or the CLI') },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOnly],
          patterns: [
            {
              group: ['**/src-main/**', '../src-main/*', '@tensorflow/*', 'node:*'],
              message: 'The renderer imports only @contract from src-main (docs/ARCHITECTURE.md).',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests reach into every layer on purpose; fixtures and fakes may be loose.
    files: ['test/**', 'scripts/**', '*.config.ts', '*.config.js'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
