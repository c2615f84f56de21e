import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { EVERYDAY_CLASSES, api, classImageFolder } from './class-project';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

/** 24 everyday classes, a class whose name a spreadsheet would run as a formula (first: folders are read in order), and a very long one. */
const LONG = 'willow-pattern ceramic vessel, a remarkably long class name such as a museum catalogue might use';
const CLASSES = [...EVERYDAY_CLASSES, '=total', LONG];
const PER_CLASS = 4;

const imageFolder = (root: string) => classImageFolder(root, CLASSES, () => PER_CLASS, { seed: 1, size: 32 });

const tile = (page: Page, i: number) => page.locator(`[data-testid=tile][data-index="${i}"]`);

test('Images page: tiles sized to tiny images, split later, search, class picker, viewer with predictions, prediction filters, export', async ({
  page
}, testInfo) => {
  test.setTimeout(240_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-images-'));
  const root = path.join(home, 'images');
  await imageFolder(root);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Twenty-six', { folder: root });
    await expect(page.getByTestId('import-summary')).toContainText(`Imported ${CLASSES.length * PER_CLASS} images`);
    await page.getByRole('button', { name: 'Done' }).click();

    // Tiles follow the images: 32 px images get 64 px boxes, drawn 2× with square pixels.
    await expect(page.getByTestId('class-item')).toHaveCount(CLASSES.length);
    const thumb = tile(page, 0).locator('img');
    await expect(thumb).toHaveClass(/pixelated/);
    expect((await thumb.boundingBox())!.width).toBe(64);
    expect((await tile(page, 0).boundingBox())!.width).toBeLessThan(110);
    await page.getByLabel('Tile size').selectOption('large');
    await expect.poll(async () => (await thumb.boundingBox())!.width).toBe(160);
    await page.getByLabel('Tile size').selectOption('auto');

    // 24 classes and more: distinct colours in the sidebar.
    const swatches = await page.locator('[data-testid=class-item] .swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    expect(new Set(swatches.slice(0, 24)).size).toBe(24);
    await shot('30-tiny-images-26-classes');

    // Split later: a stratified hold-out with counts per class, previewed before anything moves.
    await page.getByRole('button', { name: 'Split…' }).click();
    const dialog = page.getByRole('dialog', { name: /Split into train pool/ });
    await dialog.locator('#split-test').fill('25');
    await dialog.locator('#split-seed').fill('3');
    await expect(dialog.getByTestId('split-summary')).toContainText('26 images would move');
    await expect(dialog.getByTestId('split-table').locator('tbody tr')).toHaveCount(CLASSES.length);
    await expect(dialog.getByTestId('split-table').locator('tbody tr').nth(1)).toContainText(/airplane\s*3\s*0\s*1/);
    await shot('31-split-preview');
    await dialog.getByRole('button', { name: `Split ${CLASSES.length * PER_CLASS} images` }).click();
    await expect(dialog.getByTestId('split-summary')).toContainText('Done: 26 images moved');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('project-stats')).toContainText('train 78 / test 26');

    // Search matches folders and class names, not only file names; every word must match.
    const search = page.getByLabel('Search by file, folder or class name');
    await search.fill('retriever');
    await expect(page.getByTestId('view-count')).toHaveText(`${PER_CLASS} shown`);
    await search.fill('ceramic 0.png');
    await expect(page.getByTestId('view-count')).toHaveText('1 shown');
    await search.fill('');
    await expect(page.getByTestId('view-count')).toHaveText(`${CLASSES.length * PER_CLASS} shown`);

    // The class picker: L opens it, a few letters, Enter labels and moves on; new names create a class.
    await tile(page, 0).click();
    await page.keyboard.press('l');
    const picker = page.getByTestId('class-picker');
    await expect(picker).toBeVisible();
    await page.keyboard.type('gold');
    await expect(picker.getByRole('option').first()).toContainText('golden retriever');
    await page.keyboard.press('Enter');
    await expect(picker).toHaveCount(0);
    await expect(tile(page, 0)).toHaveAttribute('data-label', 'golden retriever');
    await expect(tile(page, 1)).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('l');
    await page.keyboard.type('ceram');
    await page.keyboard.press('Enter');
    await expect(tile(page, 1)).toHaveAttribute('data-label', LONG);
    await page.keyboard.press('l');
    await page.keyboard.type('gr'); // initials of golden retriever
    await expect(picker.getByRole('option').first()).toContainText('golden retriever');
    await page.keyboard.press('Escape');
    const recent = page.getByTestId('recent-classes');
    await expect(recent.getByRole('button')).toHaveText([LONG, 'golden retriever', /Other/]);
    await tile(page, 2).click();
    await recent.getByRole('button', { name: 'golden retriever' }).click();
    await expect(tile(page, 2)).toHaveAttribute('data-label', 'golden retriever');
    // Number keys still label with the first nine classes.
    await tile(page, 3).click();
    await page.keyboard.press('3');
    await expect(tile(page, 3)).toHaveAttribute('data-label', 'apple');

    // A long class name is ellipsised: the selection bar keeps its split buttons on screen.
    await tile(page, 1).click();
    await tile(page, 2).click({ modifiers: ['Shift'] });
    const bar = page.getByTestId('selection-bar');
    for (const name of ['Train pool', 'Test', 'Validation']) {
      const box = (await bar.getByRole('button', { name, exact: true }).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(1280);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await shot('32-long-class-name-picker-recent');

    // The viewer: double-click opens it large, with the file's details; arrows move, keys label.
    await tile(page, 1).dblclick();
    const viewer = page.getByTestId('image-viewer');
    await expect(viewer).toBeVisible();
    await expect(page.getByTestId('viewer-position')).toHaveText(`2 / ${CLASSES.length * PER_CLASS}`);
    const info = page.getByTestId('viewer-info');
    await expect(info).toContainText('32 × 32 px');
    await expect(info).toContainText(path.join(root, '=total', '1.png'));
    await expect(page.getByTestId('viewer-label')).toContainText(LONG);
    const big = page.getByTestId('viewer-image');
    await expect(big).toHaveClass(/pixelated/);
    expect(Number(await big.getAttribute('data-scale'))).toBeGreaterThanOrEqual(10);
    await expect(page.getByTestId('viewer-prediction')).toContainText('No finished run yet');
    await shot('33-viewer-tiny-image');
    await page.keyboard.press('z');
    await expect(page.getByTestId('viewer-zoom')).toHaveText('Zoom: 1:1');
    expect((await big.boundingBox())!.width).toBe(32);
    await page.keyboard.press('z');
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('viewer-position')).toHaveText(`3 / ${CLASSES.length * PER_CLASS}`);
    await page.keyboard.press('5'); // bee, then on to the next image
    await expect(page.getByTestId('viewer-position')).toHaveText(`4 / ${CLASSES.length * PER_CLASS}`);
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByTestId('viewer-label')).toContainText('bee');
    await page.keyboard.press('l');
    await page.keyboard.type('tul');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('viewer-position')).toHaveText(`4 / ${CLASSES.length * PER_CLASS}`);
    await page.keyboard.press('Escape');
    await expect(viewer).toHaveCount(0);
    await expect(tile(page, 2)).toHaveAttribute('data-label', 'tulip');
    await page.keyboard.press('Space');
    await expect(viewer).toBeVisible();
    await page.keyboard.press('Space');
    await expect(viewer).toHaveCount(0);

    // Put the labels back as the folders say, then train a zero-shot run to get predictions.
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    await expect(tile(page, 0)).toHaveAttribute('data-label', '=total');
    await expect(tile(page, 3)).toHaveAttribute('data-label', '=total');
    await importFixtureModel(page);
    const models = await api(page, 'models.list');
    // k = 3: every train-pool image is in the set, so each has cached features for the viewer.
    const set = await api(page, 'fewshot.create', { k: 3, seed: 1, baseNew: false });
    const { runId } = await api(page, 'train.start', { modelId: models[0].id, method: 'zeroshot', setId: set.id });
    await expect.poll(async () => (await api(page, 'runs.list')).find((r: any) => r.id === runId)?.status, { timeout: 120_000 }).toBe('done');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Images', exact: true }).click();

    // Prediction filters: the run's evaluated images, right or wrong, by predicted class and confidence.
    await page.getByRole('button', { name: 'Predictions' }).click();
    const filters = page.getByTestId('prediction-filters');
    await expect(filters.getByLabel('Run for predictions')).toContainText(runId);
    await filters.getByLabel('Prediction result').selectOption('evaluated');
    await expect(page.getByTestId('view-count')).toHaveText('26 shown');
    // The server's count of wrong predictions; the grid must show exactly that many once it has reloaded.
    const wrong = (await api(page, 'images.ids', { filter: { prediction: { runId, correct: false } } })).ids.length;
    await filters.getByLabel('Prediction result').selectOption('wrong');
    await expect(page.getByTestId('view-count')).toHaveText(`${wrong} shown`);
    await filters.getByLabel('Prediction result').selectOption('correct');
    await expect.poll(async () => Number((await page.getByTestId('view-count').textContent())!.split(' ')[0])).toBe(26 - wrong);
    await filters.getByLabel('Prediction result').selectOption('evaluated');
    await filters.getByLabel('Minimum confidence %').fill('101');
    await filters.getByLabel('Minimum confidence %').press('Enter');
    await expect(page.getByTestId('view-count')).toHaveText('0 shown');
    await filters.getByLabel('Minimum confidence %').fill('0');
    await filters.getByLabel('Minimum confidence %').press('Enter');
    await expect(page.getByTestId('view-count')).toHaveText('26 shown');
    await shot('34-prediction-filters');

    // The viewer shows the run's prediction and routed expert: stored for a test image, computed for a train-pool one.
    await tile(page, 0).dblclick();
    const predicted = page.getByTestId('viewer-prediction');
    await expect(predicted).toContainText(`Run ${runId}`);
    await expect(predicted).toContainText('evaluated (test split)');
    await expect(page.getByTestId('viewer-experts')).toContainText('expert 1 (100%)');
    await expect(predicted).toContainText(/correct|wrong/);
    await shot('35-viewer-prediction');
    await page.keyboard.press('Escape');
    await filters.getByLabel('Prediction result').selectOption('all');
    await page.getByRole('button', { name: 'Predictions' }).click();
    await page.getByLabel('Filter by split').selectOption('train');
    await tile(page, 0).dblclick();
    await expect(predicted).toContainText('from cached image features');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Switch theme' }).click();
    await tile(page, 0).dblclick();
    await expect(predicted).toContainText('from cached image features');
    await shot('35b-viewer-prediction-dark');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Switch theme' }).click();
    await page.getByLabel('Filter by split').selectOption('');

    // Export: a CSV download with formula-like cells neutralised, and a Label Studio file saved on the server.
    await page.getByRole('button', { name: 'Export…' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'Export labels' });
    const downloading = page.waitForEvent('download');
    await exportDialog.getByRole('button', { name: 'Download' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('Twenty-six-labels.csv');
    const csv = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
    expect(csv[0]).toBe('path,label,split');
    expect(csv).toHaveLength(CLASSES.length * PER_CLASS + 2);
    expect(csv.filter((l) => l.includes(`${path.sep}=total${path.sep}`)).every((l) => l.includes(",'=total,"))).toBe(true);
    await exportDialog.getByText('Label Studio JSON').click();
    const target = path.join(home, 'exports');
    await exportDialog.locator('#export-file').fill(target);
    await exportDialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(exportDialog.getByTestId('export-result')).toContainText(`saved to ${path.join(target, 'Twenty-six-labelstudio.json')}`);
    const tasks = JSON.parse(fs.readFileSync(path.join(target, 'Twenty-six-labelstudio.json'), 'utf8'));
    expect(tasks).toHaveLength(CLASSES.length * PER_CLASS);
    expect(tasks[0].annotations[0].result[0].value.choices).toEqual(['=total']);
    await shot('36-export');
    await exportDialog.getByRole('button', { name: 'Close', exact: true }).last().click();

    // The long class name stays on one ellipsised line on the other pages too (no page scrolls sideways).
    const tabButton = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });
    for (const [name, file] of [
      ['Few-shot sets', '38-fewshot-long-name'],
      ['Evaluate', '39-evaluate-long-name'],
      ['Routing', '40-routing-long-name'],
      ['Zero-shot', '41-zeroshot-long-name'],
      ['Train', '42-train-long-name']
    ] as const) {
      await tabButton(name).click();
      await page.waitForTimeout(1500);
      const long = page.getByText(LONG, { exact: true });
      if (await long.count()) await long.last().scrollIntoViewIfNeeded();
      await shot(file);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(1280);
    }
    await tabButton('Images').click();

    // 1920×1080, dark theme: the grid, the sidebar and the recent row with the long name.
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.getByRole('button', { name: 'Switch theme' }).click();
    await shot('37-images-1920-dark');
    expect(errors).toEqual([]);
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
