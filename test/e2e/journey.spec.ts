import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImage, makeImageFolder } from '../helpers/images';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

/**
 * The whole journey of a domain expert, in one project and one browser session:
 * import → label → few-shot set (sample, roles, hand edits in the grid) → templates (library,
 * validation, drag, auto-group) → train (progress, curves, cancel, resume; the set freezes) →
 * routing inspector → evaluate (confusion cell) → save report → classify a dropped image →
 * label the most uncertain images next.
 */
test('the whole journey on the tiny fixture model', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-journey-'));
  const root = path.join(home, 'images');
  const files = await makeImageFolder(root, ['ant', 'bee', 'wasp'], 5);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  const unlabeled = path.join(home, 'unsorted');
  for (let i = 0; i < 3; i++) await makeImage(path.join(unlabeled, `new_${i}.jpg`), 500 + i);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  const tab = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });
  const tile = (i: number) => page.locator(`[data-testid=tile][data-index="${i}"]`);
  try {
    // Import and label.
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Insects', { csv: path.join(root, 'labels.csv') });
    await expect(page.getByTestId('import-summary')).toContainText('Imported 15 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await tile(0).click();
    await page.keyboard.press('0');
    await expect(tile(0)).toHaveAttribute('data-label', '');
    await tile(0).click();
    await page.keyboard.press('1');
    await expect(tile(0)).toHaveAttribute('data-label', 'ant');
    await importFixtureModel(page);

    // Few-shot sets: counts per class and split, a sampled set, roles edited, images edited in the grid.
    await page.keyboard.press('Alt+2');
    await expect(tab('Few-shot sets')).toHaveAttribute('aria-current', 'page');
    const counts = page.getByTestId('class-counts');
    await expect(counts.locator('tbody tr')).toHaveCount(3);
    await expect(counts.locator('tbody tr').first()).toContainText(/ant\s*3\s*2\s*0/);
    await page.getByLabel('Images per class').fill('3');
    await page.getByLabel('New set name').fill('three-shot');
    await page.getByRole('button', { name: 'Sample set' }).click();
    const detail = page.getByTestId('set-detail');
    await expect(detail).toContainText('9 images · 3 per class, seed 1 · 3 base class(es)');
    await detail.getByLabel('Role of wasp').selectOption('new');
    await expect(detail).toContainText('6 images · 3 per class, seed 1 · 2 base class(es), 1 new');
    await detail.getByLabel('Role of wasp').selectOption('base');
    await expect(detail).toContainText('9 images');
    await page.keyboard.press('g');
    const panel = page.getByTestId('pick-panel');
    await expect(panel).toContainText('Editing the images of "three-shot"');
    await expect(panel).toContainText('ant: 3');
    await expect(tile(0).getByTestId('tile-picked')).toBeVisible();
    await tile(0).click();
    await page.keyboard.press('Shift+P');
    await expect(panel).toContainText('ant: 2');
    await expect(tile(0).getByTestId('tile-picked')).toHaveCount(0);
    await panel.getByRole('button', { name: 'Save changes (8)' }).click();
    await expect(tab('Few-shot sets')).toHaveAttribute('aria-current', 'page');
    await expect(detail).toContainText('8 images · hand-picked');
    await expect(detail.getByTestId('set-classes')).toContainText('fewer than');
    await expect(page.getByRole('status')).toHaveCount(0, { timeout: 10_000 });
    await shot('20-fewshot-sets');
    await page.getByRole('button', { name: 'Switch theme' }).click();
    await shot('20b-fewshot-sets-dark');
    await page.getByRole('button', { name: 'Switch theme' }).click();

    // Templates: a built-in grouping, validation as you type, a drag between groups, auto-group, save.
    await tab('Templates').click();
    await page.getByLabel('Built-in groups').selectOption({ label: 'Flowers (Oxford): MoCoOp groups' });
    await page.getByRole('button', { name: 'Start from these' }).click();
    const groups = page.getByTestId('template-group');
    expect(await groups.count()).toBeGreaterThan(1);
    const first = groups.first().getByLabel('Template', { exact: true }).first();
    const original = await first.inputValue();
    await first.fill('a photo of a flower');
    await expect(groups.first()).toContainText('Needs {}');
    await expect(page.getByRole('button', { name: 'Save changes' })).toBeDisabled();
    await first.fill(original);
    await expect(page.getByRole('button', { name: 'Save changes' })).toBeEnabled();
    await page.getByRole('button', { name: 'Measure on labeled images' }).click();
    await expect(page.getByTestId('group-stats').first()).toContainText('ensemble', { timeout: 30_000 });
    await shot('21-templates');
    const before2 = await groups.nth(1).getByLabel('Template', { exact: true }).count();
    const moved = await groups.first().getByLabel('Template', { exact: true }).last().inputValue();
    await groups.first().locator('.trow').last().dragTo(groups.nth(1));
    await expect(groups.nth(1).getByLabel('Template', { exact: true })).toHaveCount(before2 + 1);
    await expect(groups.nth(1).getByLabel('Template', { exact: true }).last()).toHaveValue(moved);
    await expect(page.getByTestId('save-blocked')).toContainText('fill or delete the empty group');
    // Unsaved changes survive leaving the page.
    const groupCount = await groups.count();
    await page.keyboard.press('Alt+5');
    await expect(page.getByTestId('unsaved-templates')).toContainText('training uses the saved template groups');
    await page.keyboard.press('Alt+3');
    await expect(groups).toHaveCount(groupCount);
    await expect(page.getByRole('status').filter({ hasText: 'Your unsaved template changes are back' })).toBeVisible();
    await page.getByRole('button', { name: 'Propose grouping' }).click();
    await expect(page.getByTestId('auto-group-proposal')).toContainText('suggested', { timeout: 30_000 });
    await shot('22-auto-group');
    await page.getByRole('button', { name: 'Apply this grouping' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByRole('button', { name: 'Saved' })).toBeVisible();
    const expertCount = await groups.count();

    // Train: the set chosen on the Few-shot page, live progress and curves, cancel, resume.
    await tab('Few-shot sets').click();
    await detail.getByRole('button', { name: 'Train with this set' }).click();
    await expect(page.getByLabel('Few-shot set')).toHaveValue(/\d+/);
    await expect(page.getByLabel('Few-shot set').locator('option:checked')).toHaveText('three-shot · 8 images');
    await page.getByLabel('Epochs').fill('60');
    await page.getByLabel('Batch size').fill('1');
    await page.getByLabel('Learning rate').fill('0.01');
    await expect(page.getByTestId('protocol')).toContainText('few-shot on all 3 classes');
    await page.getByText('Loss weights and temperatures').click();
    await page.getByLabel('Text loss weight').fill('2');
    await page.keyboard.press('Control+Enter');
    await expect(page.getByTestId('train-progress')).toContainText('step', { timeout: 60_000 });
    await expect.poll(async () => Number(await page.getByTestId('loss-chart').getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(20);
    await shot('23-training');
    await page.getByTestId('train-progress').getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByTestId('runs-table')).toContainText('cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByTestId('train-finished')).toContainText('done', { timeout: 120_000 });
    await expect(page.getByTestId('runs-table').locator('td.done')).toHaveCount(1);
    await shot('24-trained');

    // The set a run used is frozen: a change is saved as a copy.
    await tab('Few-shot sets').click();
    await expect(detail.getByTestId('frozen-note')).toBeVisible();
    await expect(detail.getByRole('button', { name: 'Delete…' })).toBeDisabled();
    await detail.getByLabel('Role of wasp').selectOption('new');
    await expect(page.getByRole('status').filter({ hasText: 'saved as a copy: "three-shot (edited)"' })).toBeVisible();
    await expect(detail.getByLabel('Set name')).toHaveValue('three-shot (edited)');
    await expect(page.getByTestId('set-list')).toContainText(/three-shot\s*8 images · hand-picked · used/);

    // Routing inspector: an expert's gallery, one image's router distribution beside p_hard, a lasso.
    await tab('Routing').click();
    await expect(page.getByTestId('expert-load').locator('button')).toHaveCount(expertCount);
    const busiest = page.locator('[data-testid=expert-load] button:not([aria-label$=": 0 images"])').first();
    await busiest.click();
    await expect(page.getByTestId('routing-gallery-title')).toContainText('by router weight');
    const items = page.getByTestId('routing-gallery').locator('button');
    await expect(items.first()).toBeVisible();
    await items.first().click();
    await expect(page.getByTestId('routing-detail')).toContainText('hard-prompt gate');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('routing-gallery-title')).toContainText('All test images · 6');
    await page.keyboard.press('1');
    await expect(page.getByTestId('routing-gallery-title')).toContainText('Routed to expert 1');
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
    await shot('25-routing');

    // Evaluate: the run's numbers, a confusion-matrix cell opens its images, the report is saved and parses.
    await tab('Evaluate').click();
    await expect(page.getByTestId('run-details')).toContainText('accuracy on 6 test images');
    const firstCell = page.getByTestId('confusion').locator('button.cellbtn').first();
    const count = Number(await firstCell.textContent());
    await firstCell.click();
    await expect(page.getByTestId('gallery-title')).toContainText(`ant predicted as ant (${count})`);
    await expect(page.getByTestId('eval-gallery').locator('figure')).toHaveCount(count);
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('gallery-title')).toContainText('Misclassified');
    const reports = path.join(home, 'reports');
    await page.locator('#report-dir').fill(reports);
    await page.getByRole('button', { name: 'Save report' }).click();
    await expect(page.getByTestId('report-written')).toContainText('report.html');
    const folder = path.join(reports, fs.readdirSync(reports)[0]!);
    const metrics = JSON.parse(fs.readFileSync(path.join(folder, 'metrics.json'), 'utf8'));
    expect(metrics.evaluation.images).toBe(6);
    expect(metrics.run.settings).toMatchObject({ lambda2: 2, lambda1: 1, epochs: 60, batchSize: 1 });
    expect(fs.readFileSync(path.join(folder, 'predictions.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    expect(fs.readFileSync(path.join(folder, 'report.html'), 'utf8')).toContain('<svg');
    await shot('26-evaluate');

    // Another test set: one test image moved to the validation split, the run evaluated on it.
    await tab('Images').click();
    await tile(3).click();
    await page.keyboard.press('v');
    await expect(tile(3)).toContainText('val');
    await tab('Evaluate').click();
    await page.getByLabel('Test set').selectOption('val');
    await page.getByTestId('run-details').getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect(page.getByTestId('run-details')).toContainText('accuracy on 1 images of the validation split');
    await expect(page.getByTestId('gallery-title')).toHaveCount(0);
    await page.getByLabel('Test set').selectOption('test');
    await expect(page.getByTestId('run-details')).toContainText('accuracy on 6 test images');

    // Classify a dropped image with the trained run.
    await tab('Classify').click();
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
    await shot('27-classify');

    // Suggestions: unlabeled images, most uncertain first, labeled with the number keys.
    await tab('Images').click();
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await page.getByRole('tab', { name: 'Files or folders' }).click();
    await page.locator('#import-paths').fill(unlabeled);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(page.getByTestId('import-summary')).toContainText('Imported 3 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Label next: most uncertain' }).click();
    await expect(page.getByTestId('tile')).toHaveCount(3);
    await expect(page.getByTestId('tile-hint').first()).toContainText('guess:');
    await tile(0).click();
    await page.keyboard.press('2');
    await expect(tile(0)).toHaveAttribute('data-label', 'bee');
    // A accepts the run's guess (and moves on); X skips an image without labeling it.
    const guess = /guess: (\S+)/.exec((await tile(1).getByTestId('tile-hint').textContent()) ?? '')?.[1];
    expect(guess).toMatch(/^(ant|bee|wasp)$/);
    await tile(1).click();
    await page.keyboard.press('a');
    await expect(tile(1)).toHaveAttribute('data-label', guess!);
    await page.keyboard.press('x');
    await expect(tile(2).getByTestId('tile-hint')).toContainText('guess:');
    await shot('28-suggestions');

    // Every page's shortcuts are listed in the help overlay.
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(help.locator('h3').first()).toHaveText('Images (this page)');
    for (const heading of ['Every page', 'Few-shot sets', 'Train', 'Routing', 'Evaluate'])
      await expect(help.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    await page.keyboard.press('Escape');

    // Removing the model asks first and names the project's runs that use it; Cancel keeps it.
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByRole('button', { name: 'Remove tiny-clip-a' }).click();
    const removal = page.getByTestId('remove-model-dialog');
    await expect(removal).toContainText(/run\(s\) in the open project use this model/);
    await expect(removal.locator('li').first()).toContainText(/^[a-z-]+-\d{14}-/);
    await expect(removal).toContainText('stays on disk');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect(removal).toHaveCount(0);
    await expect(page.getByTestId('models-table')).toContainText('tiny-clip-a');
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
