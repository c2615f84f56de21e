import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

/**
 * Training you can come back to, on a 24-class project: a run's curves from step 1 after a reload
 * mid-run, a cancelled run keeps its curves and resumes as one history, two runs compared side by
 * side, runs named and annotated, the form kept across a reload, and only the settings that apply
 * to the method (CoOp hides K). Screenshots at 1280×800 and 1920×1080 in both themes.
 */
const CLASSES = [
  'abyssinian',
  'american_bulldog',
  'american_pit_bull_terrier',
  'basset_hound',
  'beagle',
  'bengal',
  'birman',
  'bombay',
  'boxer',
  'british_shorthair',
  'chihuahua',
  'egyptian_mau',
  'english_cocker_spaniel',
  'english_setter',
  'german_shorthaired',
  'great_pyrenees',
  'havanese',
  'japanese_chin',
  'keeshond',
  'leonberger',
  'maine_coon',
  'miniature_pinscher',
  'newfoundland',
  'persian'
];

test('Train page: curves after a reload, compare, names and notes, the form kept, only what applies', async ({ page }, testInfo) => {
  test.setTimeout(540_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-train-'));
  const root = path.join(home, 'images');
  const files = await makeImageFolder(root, CLASSES, 3);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 2 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  const server = await startServer(home);
  const tab = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });
  const chart = page.getByTestId('loss-chart');
  const runsTable = page.getByTestId('runs-table');
  const shots = async (name: string) => {
    for (const [w, h] of [
      [1280, 800],
      [1920, 1080]
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await screenshot(page, testInfo, `train-${name}-${w}`);
      await page.getByRole('button', { name: 'Switch theme' }).click();
      await screenshot(page, testInfo, `train-${name}-${w}-dark`);
      await page.getByRole('button', { name: 'Switch theme' }).click();
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  const openTrain = async (p: Page) => {
    await tab('Train').click();
    await expect(p.getByRole('heading', { name: '2 · Settings' })).toBeVisible();
  };
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Pets 24', { csv: path.join(root, 'labels.csv') });
    await expect(page.getByTestId('import-summary')).toContainText('Imported 72 images');
    await page.getByRole('button', { name: 'Done' }).click();
    await importFixtureModel(page);
    await tab('Few-shot sets').click();
    await page.getByLabel('Images per class').fill('2');
    await page.getByLabel('New set name').fill('two-shot');
    await page.getByRole('button', { name: 'Sample set' }).click();
    await expect(page.getByTestId('set-detail')).toContainText('48 images');
    await openTrain(page);

    // Only what applies: CoOp hides K, the preset and the gate/text weights; zero-shot hides training settings.
    const method = page.getByLabel('Method');
    await expect(page.getByLabel('Experts per image')).toBeVisible();
    await method.selectOption('coop');
    await expect(page.getByLabel('Experts per image')).toHaveCount(0);
    await expect(page.getByLabel('Preset')).toHaveCount(0);
    await expect(page.getByLabel('Epochs')).toBeVisible();
    await page.getByText('Loss weights and temperatures').click();
    await expect(page.getByLabel('Gate loss weight')).toHaveCount(0);
    await expect(page.getByLabel('Text loss weight')).toHaveCount(0);
    await expect(page.getByLabel('Classification temperature')).toBeVisible();
    await expect(page.getByTestId('method-note')).toContainText('no experts (K)');
    await method.selectOption('zeroshot');
    await expect(page.getByLabel('Epochs')).toHaveCount(0);
    await expect(page.getByLabel('Training seed')).toHaveCount(0);
    await expect(page.getByText('Loss weights and temperatures')).toHaveCount(0);

    // A long MoCoOp run, named in the form; the page is reloaded while it trains.
    await method.selectOption('mocoop');
    await page.getByLabel('Epochs').fill('12');
    await page.getByLabel('Batch size').fill('8');
    await page.getByLabel('Learning rate', { exact: true }).fill('0.01');
    await page.getByLabel('Run name').fill('MoCoOp K=2');
    await page.getByRole('button', { name: 'Start training' }).click();
    const progress = page.getByTestId('train-progress');
    await expect(progress).toContainText('step', { timeout: 60_000 });
    // 48 images, batch 8: 6 steps an epoch, 72 in all. The first estimate waits for measured steps.
    await expect(progress).toContainText(/epoch \d+ of 12 · step \d+ of 72/);
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(6);
    await page.reload();
    await openTrain(page);
    await expect(progress).toContainText('step', { timeout: 30_000 });
    // The curves start at step 1, not at the step the page came back at.
    await expect(chart).toHaveAttribute('data-first-step', '1');
    await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(10);
    await expect(progress).toContainText(/about .* left|estimating/);
    await expect(chart).toHaveAttribute('data-series', /^loss\|L_ce\|L_gate\|L_text\|train accuracy \(smoothed\)\|learning rate \(÷ peak 0\.01\)$/);
    await chart.scrollIntoViewIfNeeded();
    await shots('training-after-reload');

    // Cancelled mid-run: the run keeps every step on its chart; resuming continues the same curves.
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await expect(runsTable).toContainText('cancelled');
    const cancelledPoints = Number(await chart.getAttribute('data-points'));
    expect(cancelledPoints).toBeGreaterThan(10);
    await expect(chart).toHaveAttribute('data-first-step', '1');
    await runsTable.getByRole('button', { name: 'Resume' }).click();
    await expect(progress).toContainText('step', { timeout: 60_000 });
    await expect(chart).toHaveAttribute('data-first-step', '1');
    await expect(page.getByTestId('train-finished')).toContainText('done', { timeout: 240_000 });
    await expect(chart).toHaveAttribute('data-points', '72');

    // A second run, CoOp: its chart has the total loss only (one term).
    await method.selectOption('coop');
    await page.getByLabel('Epochs').fill('4');
    await page.getByLabel('Run name').fill('');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect(page.getByTestId('train-finished')).toContainText('done', { timeout: 120_000 });
    await expect(chart).toHaveAttribute('data-series', /^loss\|train accuracy \(smoothed\)\|learning rate/);
    await expect(chart).toHaveAttribute('data-points', '24');

    // Name and note a run; they stay after a reload.
    const coopRow = runsTable.locator('tr[data-run^="coop-"]');
    await coopRow.getByRole('button', { name: /Rename or annotate/ }).click();
    const edit = page.getByTestId('run-edit');
    await edit.getByLabel('Run name').fill('CoOp baseline');
    await edit.getByLabel('Run note').fill('4 epochs only: a quick reference');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit).toHaveCount(0);
    await expect(coopRow.getByTestId('run-name')).toHaveText('CoOp baseline');
    await expect(coopRow.getByTestId('run-note')).toHaveText('4 epochs only: a quick reference');

    // Compare the two runs side by side, the legend naming them.
    await runsTable.getByRole('checkbox', { name: 'Compare MoCoOp K=2' }).check();
    await runsTable.getByRole('checkbox', { name: 'Compare CoOp baseline' }).check();
    const compareLoss = page.getByTestId('compare-loss-chart');
    await expect(compareLoss).toHaveAttribute('data-series', 'MoCoOp K=2|CoOp baseline');
    await expect(page.getByTestId('compare-accuracy-chart')).toHaveAttribute('data-series', 'MoCoOp K=2|CoOp baseline');
    await page.getByLabel('Compared loss').selectOption('l_gate');
    await expect(compareLoss).toHaveAttribute('data-series', 'MoCoOp K=2');
    await page.getByLabel('Compared loss').selectOption('loss');
    await page.getByTestId('compare-charts').scrollIntoViewIfNeeded();
    await shots('compare');

    // The form comes back after a reload, as it was left.
    await method.selectOption('kgcoop');
    await page.getByLabel('Epochs').fill('7');
    await page.getByLabel('Learning rate', { exact: true }).fill('0.005');
    await page.getByText('Loss weights and temperatures').click();
    await page.getByLabel('KgCoOp weight').fill('4');
    await page.reload();
    await openTrain(page);
    await expect(page.getByLabel('Method')).toHaveValue('kgcoop');
    await expect(page.getByLabel('Epochs')).toHaveValue('7');
    await expect(page.getByLabel('Learning rate', { exact: true })).toHaveValue('0.005');
    await page.getByText('Loss weights and temperatures').click();
    await expect(page.getByLabel('KgCoOp weight')).toHaveValue('4');
    await expect(page.getByLabel('Experts per image')).toHaveCount(0);
    await expect(runsTable.getByTestId('run-name').first()).toBeVisible();
    await expect(runsTable).toContainText('CoOp baseline');
    await expect(runsTable).toContainText('4 epochs only: a quick reference');
    // Nothing ticked after the reload: the latest run is shown, from step 1.
    await expect(chart).toHaveAttribute('data-first-step', '1');
    await runsTable.scrollIntoViewIfNeeded();
    await shots('form-after-reload');
  } finally {
    await server.stop();
  }
});
