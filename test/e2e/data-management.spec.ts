import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { EVERYDAY_CLASSES, api, classImageFolder } from './class-project';
import { screenshot, startServer } from './server';

/** 24 classes of 5 images; "apple" has 12 named 0 … 11 (natural order: 2 before 10). */
const CLASSES = EVERYDAY_CLASSES;
const PER_CLASS = 5;
const APPLES = 12;
const TOTAL = (CLASSES.length - 1) * PER_CLASS + APPLES;

const imageFolder = (root: string) => classImageFolder(root, CLASSES, (name) => (name === 'apple' ? APPLES : PER_CLASS), { seed: 2000, size: 24 });

test('Data management: a new folder asks first, split on import with counts per class, natural order, exports in every format, Label Studio import', async ({
  page
}, testInfo) => {
  test.setTimeout(300_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-data-'));
  const root = path.join(home, 'images');
  await imageFolder(root);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  /** The light theme at 1280×800, then the dark one at 1920×1080. */
  const shots = async (name: string) => {
    await shot(name);
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
    await shot(`${name}-dark-1920`);
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(server.url);

    // A folder that does not exist: the page asks before creating it; Cancel creates nothing.
    const folder = path.join(home, 'work', 'leaf survey');
    await page.locator('#project-name').fill('Twenty-four');
    await page.locator('#project-location').fill(folder);
    await page.getByRole('button', { name: 'Create project' }).click();
    const ask = page.getByRole('dialog', { name: 'Create the folder?' });
    await expect(ask).toContainText(`The folder ${folder} does not exist. Create it?`);
    await shots('40-create-folder-confirm');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await expect(ask).toHaveCount(0);
    expect(fs.existsSync(path.join(home, 'work'))).toBe(false);
    await page.getByRole('button', { name: 'Create project' }).click();
    await ask.getByRole('button', { name: 'Create folder and project' }).click();
    await expect(page.getByRole('button', { name: 'Import images' }).first()).toBeVisible();
    expect(fs.existsSync(path.join(folder, 'Twenty-four.mocoop'))).toBe(true);

    // Split on import: 20% test, 20% validation, seed 1, stratified per class.
    await page.getByRole('button', { name: 'Import images' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Import images' });
    await dialog.locator('#import-folder').fill(root);
    await dialog.getByLabel(/Hold out a test and validation share/).check();
    await dialog.locator('#import-test').fill('60');
    await dialog.locator('#import-val').fill('40');
    await expect(dialog.getByRole('alert')).toContainText('less than 100%');
    await expect(dialog.getByRole('button', { name: 'Import', exact: true })).toBeDisabled();
    await dialog.locator('#import-test').fill('20');
    await dialog.locator('#import-val').fill('20');
    await dialog.locator('#import-seed').fill('1');
    await shot('41-import-hold-out');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = dialog.getByTestId('import-summary');
    await expect(summary).toContainText(`Imported ${TOTAL} images`);
    // 5 images: 1 test, 1 validation, 3 train; apple's 12: round(2.4) = 2 and 2, 8 train.
    await expect(summary.getByTestId('import-split-counts')).toContainText(`Train pool ${23 * 3 + 8} · validation 25 · test 25`);
    await expect(summary.getByTestId('import-split-counts')).toContainText('20% test, 20% validation, seed 1');
    const rows = summary.getByTestId('import-split-table').locator('tbody tr');
    await expect(rows).toHaveCount(CLASSES.length);
    await expect(rows.filter({ hasText: 'apple' })).toContainText(/apple\s*8\s*2\s*2/);
    await expect(rows.filter({ hasText: 'golden retriever' })).toContainText(/golden retriever\s*3\s*1\s*1/);
    await shots('42-import-summary-per-class');
    await dialog.getByRole('button', { name: 'Done' }).click();

    // The project holds what the summary said, and the grid (id order) follows the natural file order.
    const info = await api(page, 'project.info');
    expect(info.project.splitCounts).toEqual({ train: 77, val: 25, test: 25 });
    const apple = info.classes.find((c: { name: string }) => c.name === 'apple');
    const { ids } = await api(page, 'images.ids', { filter: { classId: apple.id } });
    const names = (await api(page, 'images.get', { ids })).map((r: { fileName: string }) => r.fileName);
    expect(names).toEqual(Array.from({ length: APPLES }, (_, i) => `${i}.png`));

    // Export: CSV download, CoOp download, Label Studio saved on the server, ImageFolder (links, by split).
    await page.getByRole('button', { name: 'Export…' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'Export labels' });
    let downloading = page.waitForEvent('download');
    await exportDialog.getByRole('button', { name: 'Download' }).click();
    const csv = fs.readFileSync(await (await downloading).path(), 'utf8').split('\r\n');
    expect(csv[0]).toBe('path,label,split');
    expect(csv.filter((l) => l.endsWith(',test'))).toHaveLength(25);

    await exportDialog.getByText('CoOp split JSON').click();
    downloading = page.waitForEvent('download');
    await exportDialog.getByRole('button', { name: 'Download' }).click();
    const coop = JSON.parse(fs.readFileSync(await (await downloading).path(), 'utf8'));
    expect([coop.train.length, coop.val.length, coop.test.length]).toEqual([77, 25, 25]);

    const exports = path.join(home, 'exports');
    await exportDialog.getByText('Label Studio JSON').click();
    await exportDialog.locator('#export-file').fill(path.join(exports, 'tasks.json'));
    await exportDialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(exportDialog.getByTestId('export-result')).toContainText(`saved to ${path.join(exports, 'tasks.json')}`);
    await expect(exportDialog.getByTestId('label-config')).toContainText('<Choice value="golden retriever"/>');
    // Saving again asks before replacing.
    await exportDialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(exportDialog.getByTestId('export-confirm')).toContainText('already exists. Replace it?');
    await exportDialog.getByRole('button', { name: 'Keep it' }).click();

    await exportDialog.getByText('ImageFolder', { exact: true }).click();
    await exportDialog.getByLabel('Symbolic links').check();
    await exportDialog.getByLabel(/train\/, val\/ and test\/ folders/).check();
    const imageFolder = path.join(exports, 'by-split');
    await exportDialog.locator('#export-file').fill(imageFolder);
    await shot('44-export-imagefolder-options');
    await exportDialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(exportDialog.getByTestId('export-result')).toContainText(`${TOTAL} images · saved to ${imageFolder}`);
    expect(fs.readdirSync(imageFolder).sort()).toEqual(['test', 'train', 'val']);
    expect(fs.readdirSync(path.join(imageFolder, 'train'))).toHaveLength(CLASSES.length);
    expect(fs.lstatSync(path.join(imageFolder, 'train', 'apple', fs.readdirSync(path.join(imageFolder, 'train', 'apple'))[0]!)).isSymbolicLink()).toBe(true);
    // Again: the folder exists and is not empty, so the dialog asks; Replace builds it anew with copies.
    await exportDialog.getByLabel('Copy the images').check();
    await exportDialog.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(exportDialog.getByTestId('export-confirm')).toContainText('already exists and is not empty. Replace it?');
    await shots('45-export-replace-confirm');
    await exportDialog.getByRole('button', { name: 'Replace' }).click();
    await expect(exportDialog.getByTestId('export-result')).toContainText('(the old one was replaced)');
    expect(fs.lstatSync(path.join(imageFolder, 'test', 'apple', fs.readdirSync(path.join(imageFolder, 'test', 'apple'))[0]!)).isSymbolicLink()).toBe(false);
    expect(fs.readdirSync(exports).filter((n) => n.startsWith('.'))).toEqual([]);
    // Web mode: the folder saved on the server comes to the browser as one zip.
    downloading = page.waitForEvent('download');
    await exportDialog.getByRole('button', { name: 'Download (zip)' }).click();
    const zip = await downloading;
    expect(zip.suggestedFilename()).toBe('by-split.zip');
    expect(
      fs
        .readFileSync(await zip.path())
        .subarray(0, 2)
        .toString()
    ).toBe('PK');
    await exportDialog.getByText('Close', { exact: true }).click();
    await expect(exportDialog).toHaveCount(0);

    // Label Studio import into a second project: every task comes back with its class and split.
    await page.getByRole('button', { name: 'Close project' }).click();
    await page.locator('#project-name').fill('From Label Studio');
    await page.locator('#project-location').fill(folder);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await dialog.getByRole('tab', { name: 'Label Studio' }).click();
    await dialog.locator('#import-ls').fill(path.join(exports, 'tasks.json'));
    await expect(dialog).toContainText('Off: the train, validation and test splits of the source are kept.');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(summary).toContainText(`Imported ${TOTAL} images`);
    await expect(summary.getByTestId('import-split-counts')).toContainText('Train pool 77 · validation 25 · test 25');
    await expect(summary.getByTestId('import-split-table').locator('tbody tr')).toHaveCount(CLASSES.length);
    await shots('46-label-studio-import');
    expect(errors).toEqual([]);
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
