import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Starts web mode through the real CLI (`mocoop serve --json`) and returns its access link (`url`,
 * `http://127.0.0.1:<port>/s/<random>/?token=…`), the same without the token (`base`, where every
 * route of the server lives) and the bare `origin`. `port`: the port to listen on (0: any free one).
 */
export async function startServer(home: string, port = 0): Promise<{ url: string; base: string; origin: string; port: number; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [path.join(repoRoot, 'bin/mocoop.js'), 'serve', '--port', String(port), '--json'], {
    cwd: repoRoot,
    env: { ...process.env, MOCOOP_HOME: home, MOCOOP_PROJECTS_DIR: path.join(home, 'projects') },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mocoop serve exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error(`mocoop serve did not start: ${stderr}`)), 30_000);
  });
  const { url } = JSON.parse(first) as { url: string };
  const parsed = new URL(url);
  return {
    url,
    base: parsed.origin + parsed.pathname,
    origin: parsed.origin,
    port: Number(parsed.port),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      })
  };
}

/** The Electron binary, when this machine has one (it is downloaded on first use, online). */
export function electronBinary(): string | null {
  const dir = path.join(repoRoot, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const binary = path.join(dir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(binary) ? binary : null;
}

import type { Page, TestInfo } from '@playwright/test';
import { TINY_CLIP } from '../helpers/fixtures';

export const FIXTURE_MODEL = TINY_CLIP;
const SHOTS = path.join(repoRoot, 'test', 'artifacts', 'screenshots');

/** Saves a full-page screenshot as a test artifact (and attaches it to the report). */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `web-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** From the start page: creates a project and imports an image folder or a CSV through the import dialog. */
export async function createProjectWithImages(page: Page, home: string, name: string, source: { folder: string } | { csv: string }): Promise<void> {
  await page.locator('#project-name').fill(name);
  await page.locator('#project-location').fill(path.join(home, 'projects'));
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('button', { name: 'Import images' }).first().click();
  if ('csv' in source) {
    await page.getByRole('tab', { name: 'CSV' }).click();
    await page.locator('#import-csv').fill(source.csv);
  } else {
    await page.locator('#import-folder').fill(source.folder);
  }
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByTestId('import-summary').waitFor();
}

/** Registers the tiny fixture CLIP through the Models page. */
export async function importFixtureModel(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  await page.locator('#model-dir').fill(FIXTURE_MODEL);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByTestId('models-table').getByText('tiny-clip-a').first().waitFor();
}
