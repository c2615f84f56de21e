import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { FIXTURE_MODEL as FIXTURE, createProjectWithImages, screenshot, startServer } from './server';

test('import a CLIP folder, see the backend, run zero-shot and read the report', async ({ page }, testInfo) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-zs-'));
  await makeImageFolder(path.join(home, 'images'), ['ant', 'bee', 'wasp'], 3);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Insects', { folder: path.join(home, 'images') });
    await expect(page.getByTestId('import-summary')).toContainText('Imported 9 images');
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Zero-shot', exact: true }).click();
    await expect(page.getByText('No model installed yet')).toBeVisible();
    await page.getByRole('button', { name: 'Get a model' }).click();
    await expect(page.getByTestId('backend-card')).toContainText('wasm');
    await expect(page.getByTestId('encoders-engine')).toContainText(/ONNX Runtime .* on CPU/);
    await page.locator('#model-dir').fill(FIXTURE);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByTestId('models-table')).toContainText('tiny-clip-a');
    await expect(page.getByTestId('models-table')).toContainText('patch 8');
    await shot('10-models');

    await page.getByRole('button', { name: 'Zero-shot', exact: true }).click();
    await page.getByLabel('Template set').selectOption('imagenet-7');
    await expect(page.getByLabel('Templates')).toHaveValue(/itap of a \{\}\./);
    await page.getByRole('button', { name: 'Run zero-shot' }).click();
    const report = page.getByTestId('zeroshot-report');
    await expect(report).toContainText('accuracy on 9 labeled images', { timeout: 60_000 });
    await expect(report).toContainText('9 images encoded, 0 from the cache');
    await expect(report.locator('.tpl')).toHaveCount(7);
    await shot('11-zeroshot-report');

    // A second run reuses every cached image feature.
    await page.getByRole('button', { name: 'Run zero-shot' }).click();
    await expect(report).toContainText('0 images encoded, 9 from the cache', { timeout: 60_000 });

    // Removing a model asks first; confirmed, the entry goes and the folder stays.
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByRole('button', { name: 'Remove tiny-clip-a' }).click();
    await expect(page.getByTestId('remove-model-dialog')).toContainText('No run in the open project uses this model.');
    await page.getByRole('button', { name: 'Remove model' }).click();
    await expect(page.getByTestId('models-table')).toHaveCount(0);
    expect(fs.existsSync(path.join(FIXTURE, 'model.safetensors'))).toBe(true);
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
