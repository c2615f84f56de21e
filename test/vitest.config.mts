import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));
const alias = { $contract: fileURLToPath(new URL('../src-main/contract', import.meta.url)) };

export default defineConfig({
  root,
  resolve: { alias },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/unit/**/*.test.ts'], exclude: ['test/unit/renderer/state/**'], environment: 'node' }
      },
      {
        // Reliability probes: hostile and careless inputs through the CLI and services (loopback only,
        // bounded in time and count). The browser-driven ones are Playwright *.spec.ts files beside them.
        extends: true,
        test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'], environment: 'node' }
      },
      {
        // The renderer's Svelte state classes (*.svelte.ts), compiled for the browser as in the app.
        extends: true,
        plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
        resolve: { alias, conditions: ['browser'] },
        test: { name: 'renderer-state', include: ['test/unit/renderer/state/**/*.test.ts'], environment: 'node' }
      }
    ]
  }
});
