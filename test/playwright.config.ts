import { defineConfig } from '@playwright/test';

// Browsers cannot be downloaded here: Playwright drives Debian's Chromium (apt-get install chromium).
const executablePath = process.env.MOCOOP_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  outputDir: './artifacts/e2e-results',
  timeout: 90_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure'
  },
  // `npm run test:e2e` (and so `npm test`) runs both: the user journeys, and the reliability suite
  // (security and robustness properties checked through a real browser).
  projects: [
    { name: 'e2e', testDir: './e2e' },
    // Only the *.spec.ts files: the *.test.ts beside them are vitest probes (npm run test:unit).
    { name: 'reliability', testDir: './reliability', testMatch: '**/*.spec.ts' }
  ]
});
