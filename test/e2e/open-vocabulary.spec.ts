import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { spawnCliProcess } from '../helpers/cli';
import { makeImageFolder } from '../helpers/images';
import { openResultsProject } from './results-fixture';
import { FIXTURE_MODEL, screenshot, startServer } from './server';

/**
 * Classes added after training: a CoOp run trained on three classes, then a fourth class imported.
 * Evaluate and Classify offer to include it (encoded through the run's learned prompts) and mark it;
 * a linear probe, which has no prompts, says why it cannot.
 */

let home = '';
let project = '';
let coopRun = '';
let probeRun = '';
let server: Awaited<ReturnType<typeof startServer>> | null = null;

async function cli(args: string[]): Promise<string> {
  const r = await spawnCliProcess(args, home, { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`mocoop ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Writes labels.csv for `classes` under `root` (3 train, 3 test images each, drawn from `seedBase` on) and imports it. */
async function importClasses(root: string, classes: string[], seedBase: number): Promise<void> {
  const files = await makeImageFolder(root, classes, 6, seedBase);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  await cli(['import', project, '--csv', path.join(root, 'labels.csv')]);
}

const runIdOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event?: string; run?: string })
    .find((e) => e.event === 'done')!.run!;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-openvocab-'));
  project = path.join(home, 'projects', 'birds.mocoop');
  fs.mkdirSync(path.dirname(project), { recursive: true });
  await cli(['project', 'create', project, '--name', 'Birds']);
  await importClasses(path.join(home, 'first'), ['robin', 'sparrow', 'wren'], 1);
  await cli(['models', 'import', FIXTURE_MODEL]);
  await cli(['fewshot', project, '--k', '2', '--seed', '1']);
  const train = (method: string) => cli(['train', project, '--model', 'tiny-clip-a', '--method', method, '--epochs', '1', '--batch-size', '4', '--json']);
  coopRun = runIdOf(await train('coop'));
  probeRun = runIdOf(await train('linear-probe'));
  // A class the runs never saw.
  await importClasses(path.join(home, 'later'), ['heron'], 100);
  server = await startServer(home);
});

test.afterAll(async () => {
  await server?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });

test('Evaluate and Classify score a class added after training through the learned prompts', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await openResultsProject(page, server!.url, project);
  await tab(page, 'Evaluate').click();
  await page.getByRole('button', { name: `Open ${coopRun}` }).click();
  const details = page.getByTestId('run-details');
  await expect(details.locator('h2')).toContainText(coopRun);
  const include = page.getByTestId('include-added');
  await expect(include).toBeEnabled();
  await expect(page.locator('.include-added')).toContainText('Include the 1 class added after training (heron)');
  // The stored numbers: three classes.
  await expect(page.getByTestId('per-class').locator('.pcrow')).toHaveCount(3);

  await include.check();
  await details.getByRole('button', { name: 'Evaluate' }).click();
  await expect(page.getByTestId('open-vocabulary')).toContainText('"heron"', { timeout: 60_000 });
  const rows = page.getByTestId('per-class').locator('.pcrow');
  await expect(rows).toHaveCount(4);
  await expect(rows.filter({ hasText: 'heron' }).locator('.role.added')).toHaveText('added');
  await expect(rows.filter({ hasText: 'robin' }).locator('.role.added')).toHaveCount(0);
  await expect(details).toContainText('accuracy on 12 images of the test split, among all');
  await screenshot(page, testInfo, 'open-vocabulary-evaluate');

  // Unticked, the stored test-split numbers come back.
  await include.uncheck();
  await expect(rows).toHaveCount(3);

  // A linear probe has no prompts to encode a name through: the box is off and says why.
  await page.getByRole('button', { name: `Open ${probeRun}` }).click();
  await expect(details.locator('h2')).toContainText(probeRun);
  await expect(page.getByTestId('include-added')).toBeDisabled();
  await expect(page.getByTestId('include-added-reason')).not.toBeEmpty();

  // Classify: the same choice; a heron image may now be predicted as the added class.
  await tab(page, 'Classify').click();
  await page.getByLabel('Run').selectOption(coopRun);
  const classifyInclude = page.getByTestId('classify-include-added');
  await expect(classifyInclude).toBeEnabled();
  await classifyInclude.check();
  const herons = fs.readdirSync(path.join(home, 'later', 'heron')).map((f) => path.join(home, 'later', 'heron', f));
  await page.getByLabel('Images to classify').setInputFiles(herons.slice(0, 3));
  const results = page.getByTestId('classify-results');
  await expect(results.locator('tbody tr')).toHaveCount(3, { timeout: 60_000 });
  // Predictions of the added class carry its badge, and only those.
  const predicted = await results.locator('tbody tr td:nth-child(3) strong').allTextContents();
  const badges = await results.locator('tbody tr td:nth-child(3) .badge').count();
  expect(badges).toBe(predicted.filter((p) => p === 'heron').length);
  await screenshot(page, testInfo, 'open-vocabulary-classify');

  await page.getByLabel('Run').selectOption(probeRun);
  await expect(classifyInclude).toBeDisabled();
});
