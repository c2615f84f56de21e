import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImage, makeImageFolder } from '../helpers/images';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

test('train: sample a few-shot set, watch the curves, cancel, resume; evaluate and save the report', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-train-'));
  const root = path.join(home, 'images');
  const files = await makeImageFolder(root, ['ant', 'bee', 'wasp'], 5);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  const unlabeled = path.join(home, 'unsorted');
  for (let i = 0; i < 3; i++) await makeImage(path.join(unlabeled, `new_${i}.jpg`), 500 + i);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Insects', { csv: path.join(root, 'labels.csv') });
    await expect(page.getByTestId('import-summary')).toContainText('Imported 15 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await importFixtureModel(page);

    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByLabel('Images per class').fill('3');
    await page.getByRole('button', { name: 'Create set' }).click();
    await expect(page.getByLabel('Few-shot set')).toContainText('9 images');
    await page.getByLabel('Epochs').fill('60');
    await page.getByLabel('Batch size').fill('1');
    await page.getByLabel('Learning rate').fill('0.01');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect(page.getByTestId('train-progress')).toContainText('step', { timeout: 60_000 });
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(20);
    await shot('12-training');
    await page.getByTestId('train-progress').getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('runs-table')).toContainText('cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByTestId('train-finished')).toContainText('done', { timeout: 120_000 });
    await expect(page.getByTestId('runs-table').locator('td.done')).toHaveCount(1);
    await shot('13-trained');

    // Evaluate: the run's numbers, a confusion-matrix cell opens its images, and the report is saved.
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const details = page.getByTestId('run-details');
    await expect(details).toContainText('accuracy on 6 test images');
    const firstCell = page.getByTestId('confusion').locator('button.cellbtn').first();
    const count = Number(await firstCell.textContent());
    await firstCell.click();
    await expect(page.getByTestId('gallery-title')).toContainText(`ant predicted as ant (${count})`);
    await expect(page.getByTestId('eval-gallery').locator('figure')).toHaveCount(count);
    const reports = path.join(home, 'reports');
    await page.locator('#report-dir').fill(reports);
    await page.getByRole('button', { name: 'Save report' }).click();
    await expect(page.getByTestId('report-written')).toContainText('report.html');
    const folder = path.join(reports, fs.readdirSync(reports)[0]!);
    const metrics = JSON.parse(fs.readFileSync(path.join(folder, 'metrics.json'), 'utf8'));
    expect(metrics.evaluation.images).toBe(6);
    expect(fs.readFileSync(path.join(folder, 'predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    expect(fs.readFileSync(path.join(folder, 'report.html'), 'utf8')).toContain('<svg');
    await shot('14-evaluate');

    // Routing inspector: an expert's gallery, one image's router distribution beside p_hard, a lasso.
    await page.getByRole('button', { name: 'Routing', exact: true }).click();
    const loadBars = page.getByTestId('expert-load').locator('button');
    await expect(loadBars).toHaveCount(20);
    const busiest = page.locator('[data-testid=expert-load] button:not([aria-label$=": 0 images"])').first();
    await busiest.click();
    await expect(page.getByTestId('routing-gallery-title')).toContainText('by router weight');
    const items = page.getByTestId('routing-gallery').locator('button');
    await expect(items.first()).toBeVisible();
    await items.first().click();
    await expect(page.getByTestId('routing-detail')).toContainText('hard-prompt gate');
    const map = page.getByTestId('feature-map');
    await expect(map.locator('circle')).toHaveCount(6);
    const box = (await map.boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + 2, { steps: 4 });
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 2, { steps: 4 });
    await page.mouse.move(box.x + 2, box.y + box.height - 2, { steps: 4 });
    await page.mouse.up();
    await expect(page.getByRole('button', { name: /Clear lasso/ })).toBeVisible();
    await shot('15-routing');

    // Classify a dropped image with the trained run.
    await page.getByRole('button', { name: 'Classify', exact: true }).click();
    const dropped = fs.readFileSync(files['bee']![4]!).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'new bee.jpg', { type: 'image/jpeg' }));
      return dt;
    }, dropped);
    await page.getByTestId('classify-drop').dispatchEvent('drop', { dataTransfer: transfer });
    const result = page.getByTestId('classify-results').locator('tbody tr');
    await expect(result).toHaveCount(1, { timeout: 30_000 });
    await expect(result).toContainText('new bee.jpg');
    await expect(result.locator('strong')).toHaveText(/^(ant|bee|wasp)$/);
    await shot('16-classify');

    // Suggestions: unlabeled images, most uncertain first, labeled with the number keys.
    await page.getByRole('button', { name: 'Images', exact: true }).click();
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByRole('tab', { name: 'Files or folders' }).click();
    await page.locator('#import-paths').fill(unlabeled);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByTestId('import-summary')).toContainText('Imported 3 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Label next: most uncertain' }).click();
    await expect(page.getByTestId('tile')).toHaveCount(3);
    await expect(page.getByTestId('tile-hint').first()).toContainText('guess:');
    await page.locator('[data-testid=tile][data-index="0"]').click();
    await page.keyboard.press('2');
    await expect(page.locator('[data-testid=tile][data-index="0"]')).toHaveAttribute('data-label', 'bee');
    await shot('17-suggestions');
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
