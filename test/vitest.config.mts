import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';
import { fixturesMissingReason } from './helpers/fixtures';

const root = fileURLToPath(new URL('..', import.meta.url));
const alias = { $contract: fileURLToPath(new URL('../src-main/contract', import.meta.url)) };

/**
 * Without ../shared/fixtures, the test files that need them (they import helpers/fixtures, directly or
 * through another test module) are left out, and the run says so.
 */
function filesNeedingFixtures(): string[] {
  const reason = fixturesMissingReason();
  if (!reason) return [];
  const texts = new Map<string, string>();
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.ts')) texts.set(path.relative(root, file), fs.readFileSync(file, 'utf8'));
    }
  };
  visit(path.join(root, 'test', 'unit'));
  visit(path.join(root, 'test', 'reliability'));
  const needing = new Set([...texts].filter(([, text]) => text.includes("helpers/fixtures'")).map(([file]) => file));
  for (let grew = true; grew;) {
    grew = false;
    const names = [...needing].map((f) => `/${path.basename(f, '.ts')}'`);
    for (const [file, text] of texts) {
      if (!needing.has(file) && names.some((n) => text.includes(n))) {
        needing.add(file);
        grew = true;
      }
    }
  }
  const skipped = [...needing].filter((f) => f.endsWith('.test.ts'));
  console.warn(`Skipping ${skipped.length} test files: ${reason}.`);
  return skipped;
}

const withoutFixtures = filesNeedingFixtures();

export default defineConfig({
  root,
  resolve: { alias },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time even on two cores (vitest's default leaves one core idle): most files
    // wait on a compute worker, the disk or a server, so this halves the suite's wall time here.
    maxWorkers: Math.max(2, Math.min(4, os.availableParallelism())),
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/unit/**/*.test.ts'], exclude: ['test/unit/renderer/state/**', ...withoutFixtures], environment: 'node' }
      },
      {
        // Reliability probes: hostile and careless inputs through the CLI and services (loopback only,
        // bounded in time and count). The browser-driven ones are Playwright *.spec.ts files beside them.
        extends: true,
        test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'], exclude: withoutFixtures, environment: 'node' }
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
