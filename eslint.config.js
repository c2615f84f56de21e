// ESLint: TypeScript in src-main, test and bin; TypeScript + Svelte 5 in src-renderer. Formatting is Prettier's job.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['node_modules/', 'out/', 'test-results/', 'playwright-report/', 'test/artifacts/', '.bench/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } }
  },
  {
    rules: {
      // Unused names are errors, except the ones a signature or a destructuring must name.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Non-null assertions follow bounds checks the compiler cannot see (typed-array indexing).
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // The tokenizer's text cleaning and natural sort match control characters on purpose.
      'no-control-regex': 'off',
      // A literal in braces keeps a deliberate space or quotes inside an attribute readable.
      'svelte/no-useless-mustaches': 'off',
      // State classes replace their Sets and Maps as a whole (or keep them as non-reactive caches).
      'svelte/prefer-svelte-reactivity': 'off',
      // Not enforced yet: 19 {#each} blocks over small lists that are re-rendered whole.
      'svelte/require-each-key': 'off'
    }
  },
  {
    // Tests reach into services and fixtures with loose casts on purpose.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  }
);
