import fs from 'node:fs';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { cachedResultsProject, openResultsProject } from './results-fixture';
import { screenshot, startServer } from './server';

/**
 * Reading the results of a 24-class project with a base-to-new MoCoOp run and CoOp trained on two
 * seeds: the routing map (legend, hover, click, colouring, PCA or UMAP), the Evaluate page (the clicked
 * cell beside its images, per-class accuracy, both blocks, the comparison chart and seed spread),
 * report.html (axes, readable settings, print), the project's own templates on the Zero-shot page and
 * toasts clear of the toolbar. Screenshots at 1280×800 and 1920×1080 in both themes.
 */

let home = '';
let project = '';
let server: Awaited<ReturnType<typeof startServer>> | null = null;

test.beforeAll(async () => {
  test.setTimeout(420_000);
  ({ home, project } = await cachedResultsProject());
  server = await startServer(home);
});

test.afterAll(async () => {
  await server?.stop();
});

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });

async function openProject(page: Page, theme: 'light' | 'dark' = 'light'): Promise<void> {
  await openResultsProject(page, server!.url, project, theme);
}

const circles = (page: Page) => page.getByTestId('feature-map').locator('circle');
const positions = (page: Page) =>
  circles(page).evaluateAll((cs) => cs.map((c) => `${c.getAttribute('data-image-id')}:${c.getAttribute('cx')},${c.getAttribute('cy')}`));

test('the routing map: legend, hover, click to view, colour by class / expert / correct, PCA or UMAP', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await openProject(page);
  await tab(page, 'Routing').click();
  await expect(circles(page)).toHaveCount(72);
  const legend = page.getByTestId('map-legend');
  // By expert: one entry per expert with images, counts adding up to every test image.
  const counts = async () => (await legend.locator('.count').allTextContents()).map(Number);
  expect((await counts()).reduce((a, b) => a + b, 0)).toBe(72);
  await expect(legend).toContainText('expert 1 · a photo of a {}.');

  // Hover: the thumbnail with class, prediction and expert weights.
  const point = circles(page).nth(10);
  const box = (await point.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const tip = page.getByTestId('map-tooltip');
  await expect(tip).toBeVisible();
  await expect(tip.locator('img')).toHaveAttribute('src', /thumb/);
  await expect(tip).toContainText(/\d+% · expert \d/);
  await expect(tip).toContainText(/predicted right|→ /);
  await screenshot(page, testInfo, 'results-routing-hover');

  // Click: the image large, with its class, prediction and experts; arrows step through the map's images.
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const viewer = page.getByTestId('result-viewer');
  await expect(viewer).toBeVisible();
  await expect(page.getByTestId('result-viewer-experts')).toContainText('% · expert');
  await expect(page.getByTestId('result-viewer-position')).toContainText('/ 72');
  const first = await page.getByTestId('result-viewer-position').textContent();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('result-viewer-position')).not.toHaveText(first!);
  await screenshot(page, testInfo, 'results-routing-viewer');
  await page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);

  // Colour by class: 24 legend entries of 3 images each; by right/wrong: two entries adding up.
  await page.getByLabel('Colour by').selectOption('class');
  await expect(legend.getByRole('button')).toHaveCount(24);
  expect(new Set(await counts())).toEqual(new Set([3]));
  const colours = await circles(page).evaluateAll((cs) => new Set(cs.map((c) => c.getAttribute('fill'))).size);
  expect(colours).toBe(24);
  // A legend entry filters: only its class stays bright, and the gallery shows its images.
  await legend.getByRole('button').nth(1).click();
  await expect(page.getByTestId('routing-gallery-title')).toContainText('· 3');
  await legend.getByRole('button').nth(1).click();
  await page.getByLabel('Colour by').selectOption('correct');
  const rightWrong = await legend.getByRole('button').allTextContents();
  expect(rightWrong.join(' ')).toMatch(/predicted (right|wrong)/);
  expect((await counts()).reduce((a, b) => a + b, 0)).toBe(72);

  // UMAP, computed in the worker: another map, the same every time it is asked for.
  const pca = await positions(page);
  await page.getByLabel('Projection').selectOption('umap');
  await expect(page.getByTestId('feature-map')).toHaveAttribute('data-projection', 'umap');
  await expect(page.getByTestId('map-loading')).toHaveCount(0, { timeout: 60_000 });
  const umap = await positions(page);
  expect(umap).toHaveLength(72);
  expect(umap).not.toEqual(pca);
  await page.getByLabel('Projection').selectOption('pca');
  await expect(page.getByTestId('map-loading')).toHaveCount(0);
  await expect.poll(() => positions(page)).toEqual(pca);
  await page.getByLabel('Projection').selectOption('umap');
  await expect(page.getByTestId('map-loading')).toHaveCount(0, { timeout: 60_000 });
  await expect.poll(() => positions(page)).toEqual(umap);
  await page.getByLabel('Colour by').selectOption('class');
  await screenshot(page, testInfo, 'results-routing-umap');
});

test('Evaluate: the clicked cell beside its images, readable per-class accuracy, both blocks, a comparison chart with the seed spread', async ({
  page
}, testInfo) => {
  test.setTimeout(120_000);
  await openProject(page);
  await tab(page, 'Evaluate').click();
  const table = page.getByTestId('compare-table');
  await expect(table.locator('tbody tr')).toHaveCount(3);
  // CoOp ran with two seeds: its rows carry the spread (± std) and the seed table lists them.
  const coop = table.locator('tbody tr').filter({ has: page.getByRole('cell', { name: 'CoOp', exact: true }) });
  await expect(coop).toHaveCount(2);
  await expect(coop.first()).toContainText('±');
  await expect(page.getByTestId('seed-spread')).toContainText('1, 2');
  // The comparison chart: a bar per run and metric (4 metrics: all runs are base-to-new), a legend per run, values.
  const chart = page.getByTestId('compare-chart');
  await expect(chart.locator('rect')).toHaveCount(12);
  for (const metric of ['Accuracy', 'Base', 'New', 'H']) await expect(chart.locator('svg')).toContainText(metric);
  await expect(chart.locator('.legend .entry')).toHaveCount(3);
  await expect(chart.locator('text.value').first()).toHaveText(/^\d+\.\d$/);
  // Unticking a run takes its bars out.
  await table.getByRole('checkbox').nth(2).uncheck();
  await expect(chart.locator('rect')).toHaveCount(8);
  await table.getByRole('checkbox').nth(2).check();

  await page.getByRole('button', { name: /^Open mocoop-/ }).click();
  const details = page.getByTestId('run-details');
  await expect(details).toContainText('MoCoOp');
  // Both blocks of the base-to-new run, labelled, 12 classes each.
  await expect(page.getByText('Confusion matrix · base classes')).toBeVisible();
  await expect(page.getByText('Confusion matrix · new classes')).toBeVisible();
  await expect(page.getByTestId('confusion').locator('tbody tr')).toHaveCount(12);
  await expect(page.getByTestId('confusion-new').locator('tbody tr')).toHaveCount(12);

  // A cell: highlighted, its images beside the matrix (not below it).
  const cell = page.getByTestId('confusion').locator('button.cellbtn').filter({ hasNotText: /^0$/ }).nth(1);
  const count = Number(await cell.textContent());
  await cell.click();
  await expect(cell).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('confusion').locator('button.cellbtn[aria-pressed=true]')).toHaveCount(1);
  await expect(page.getByTestId('eval-gallery').locator('figure')).toHaveCount(count);
  const matrix = (await page.getByTestId('confusion').boundingBox())!;
  const gallery = (await page.getByTestId('eval-gallery').boundingBox())!;
  expect(gallery.x).toBeGreaterThanOrEqual(matrix.x + matrix.width - 1);
  expect(gallery.y).toBeLessThan(matrix.y + matrix.height);
  await screenshot(page, testInfo, 'results-evaluate-cell');
  // A gallery image opens large.
  await page.getByTestId('eval-gallery').getByRole('button').first().click();
  await expect(page.getByTestId('result-viewer')).toBeVisible();
  await expect(page.getByTestId('result-viewer-position')).toContainText(`1 / ${count}`);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('gallery-title')).toContainText('Misclassified');
  await expect(page.getByTestId('confusion').locator('button.cellbtn[aria-pressed=true]')).toHaveCount(0);

  // Per class: 24 rows, one line each; a long name is cut with … and whole in its title.
  const rows = page.getByTestId('per-class').locator('.pcrow');
  await expect(rows).toHaveCount(24);
  const heights = await rows.evaluateAll((rs) => rs.map((r) => r.getBoundingClientRect().height));
  expect(Math.max(...heights)).toBeLessThan(30);
  await expect(rows.first().locator('.pcname')).toHaveAttribute('title', 'a rather long class name number 0');
  await expect(rows.first()).toContainText('base');
  await rows.first().scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'results-evaluate-per-class');
});

test('report.html: axes and titles on every chart, settings in words with units, expert labels whole, prints on A4', async ({ page }, testInfo) => {
  await openProject(page);
  await tab(page, 'Evaluate').click();
  await page.getByRole('button', { name: /^Open mocoop-/ }).click();
  const reports = path.join(home, 'reports');
  await page.locator('#report-dir').fill(reports);
  await page.getByRole('button', { name: 'Save report' }).click();
  await expect(page.getByTestId('report-written')).toContainText('report.html');
  // The toast of the save sits clear of the toolbar: Undo/Redo on the Images page stay visible and clickable.
  const toast = page.getByRole('status').filter({ hasText: 'Report saved' });
  await expect(toast).toBeVisible();
  await tab(page, 'Images').click();
  await expect(toast).toBeVisible();
  const toastBox = (await toast.boundingBox())!;
  for (const name of ['↶ Undo', '↷ Redo', 'Export…', 'Split…']) {
    const b = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
    const overlaps = b.x < toastBox.x + toastBox.width && toastBox.x < b.x + b.width && b.y < toastBox.y + toastBox.height && toastBox.y < b.y + b.height;
    expect(overlaps, `the toast covers ${name}`).toBe(false);
  }
  const top = (await page.getByRole('navigation', { name: 'Pages' }).boundingBox())!;
  expect(toastBox.y).toBeGreaterThan(top.y + top.height);
  await screenshot(page, testInfo, 'results-toast-clear-of-toolbar');

  const runDir = fs.readdirSync(reports).find((d) => d.startsWith('mocoop-'))!;
  const file = path.join(reports, runDir, 'report.html');
  await page.goto(`file://${file}`);
  const charts = page.locator('svg.chart');
  expect(await charts.count()).toBe(3);
  for (let i = 0; i < 3; i++) {
    await expect(charts.nth(i).locator('[data-axis=x]')).toHaveCount(1);
    expect(await charts.nth(i).locator('text').count()).toBeGreaterThan(4);
  }
  await expect(charts.first().locator('[data-axis=y]')).toHaveText('loss (one batch)');
  // Expert labels whole, not cut at 32 characters.
  await expect(charts.nth(2)).toContainText('expert 1 · a photo of a {}.');
  const settings = page.locator('table.settings');
  await expect(settings).toContainText('Learning rate');
  await expect(settings).toContainText('Batch size');
  await expect(settings).toContainText(/\d+ images/);
  await expect(settings).not.toContainText('classIds');
  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, testInfo, 'results-report');
  await page.emulateMedia({ media: 'print' });
  await page.setViewportSize({ width: 794, height: 1123 });
  // Nothing wider than the A4 page in print (the matrices of 12 classes fit).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(page, testInfo, 'results-report-print');
  const pdf = await page.pdf({ format: 'A4' });
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
});

test("Zero-shot offers the project's own template groups besides the library", async ({ page }, testInfo) => {
  await openProject(page);
  await tab(page, 'Zero-shot').click();
  const select = page.getByLabel('Template set');
  await expect(select.locator('optgroup[label="This project\'s template groups"] option')).toHaveText(['All 2 groups (4)', 'photos (2)', 'art (2)']);
  await expect(select.locator('optgroup[label="Library"] option').first()).toBeAttached();
  await select.selectOption({ label: 'art (2)' });
  await expect(page.getByLabel('Templates', { exact: true })).toHaveValue('art of the {}.\na drawing of a {}.');
  await select.selectOption({ label: 'All 2 groups (4)' });
  await expect(page.getByLabel('Templates', { exact: true })).toHaveValue(/a photo of a \{\}\.[\s\S]*a drawing of a \{\}\./);
  await screenshot(page, testInfo, 'results-zeroshot-project-groups');
});

for (const [width, height] of [
  [1280, 800],
  [1920, 1080]
] as const) {
  for (const theme of ['light', 'dark'] as const) {
    test(`screenshots at ${width}×${height}, ${theme} theme`, async ({ page }, testInfo) => {
      test.setTimeout(120_000);
      await page.setViewportSize({ width, height });
      await openProject(page, theme);
      const name = (what: string) => `results-${what}-${width}x${height}-${theme}`;
      await tab(page, 'Routing').click();
      await expect(circles(page)).toHaveCount(72);
      await page.getByLabel('Colour by').selectOption('class');
      const box = (await circles(page).nth(20).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await expect(page.getByTestId('map-tooltip')).toBeVisible();
      await screenshot(page, testInfo, name('routing'));
      await tab(page, 'Evaluate').click();
      await page.getByRole('button', { name: /^Open mocoop-/ }).click();
      await expect(page.getByTestId('compare-chart')).toBeVisible();
      await screenshot(page, testInfo, name('evaluate-compare'));
      const cell = page.getByTestId('confusion').locator('button.cellbtn').filter({ hasNotText: /^0$/ }).first();
      await cell.scrollIntoViewIfNeeded();
      await cell.click();
      await screenshot(page, testInfo, name('evaluate-cell'));
      await tab(page, 'Zero-shot').click();
      await screenshot(page, testInfo, name('zeroshot'));
    });
  }
}
