import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, type TestInfo, _electron, expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { electronBinary, repoRoot, startServer } from './server';

const SHOTS = path.join(repoRoot, 'test', 'artifacts', 'screenshots');

interface Setup {
  home: string;
  data: string;
  corrupt: string;
}

async function prepare(): Promise<Setup> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-'));
  const data = path.join(home, 'images');
  await makeImageFolder(data, ['bird', 'cat', 'dog'], 4);
  const corrupt = path.join(data, 'cat', 'broken photo.jpg');
  fs.writeFileSync(corrupt, Buffer.from('this is not really a JPEG'));
  return { home, data, corrupt };
}

async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${testInfo.project.name || 'web'}-${name}.png`);
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

const tile = (page: Page, index: number) => page.locator(`[data-testid=tile][data-index="${index}"]`);
const classCount = (page: Page, name: string) => page.getByTestId('class-item').filter({ hasText: name }).locator('.n');

async function expectLabels(page: Page, expected: Record<number, string>): Promise<void> {
  for (const [index, label] of Object.entries(expected)) await expect(tile(page, Number(index))).toHaveAttribute('data-label', label);
}

/** The labeling journey, shared by web mode and Electron. */
async function journey(page: Page, setup: Setup, testInfo: TestInfo, reload: () => Promise<void>): Promise<void> {
  await expect(page.getByRole('heading', { name: 'MoCoOp Workbench' })).toBeVisible();
  await shot(page, testInfo, '01-start');

  await page.locator('#project-name').fill('Birds and pets');
  await page.locator('#project-location').fill(path.join(setup.home, 'projects'));
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('heading', { name: 'No images yet' })).toBeVisible();
  await shot(page, testInfo, '02-empty-project');

  await page.getByRole('button', { name: 'Import images' }).first().click();
  await page.locator('#import-folder').fill(setup.data);
  await shot(page, testInfo, '03-import-dialog');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const summary = page.getByTestId('import-summary');
  await expect(summary).toContainText('Imported 12 images');
  await expect(page.getByTestId('skipped-table')).toContainText('broken photo.jpg');
  await expect(page.getByTestId('skipped-table')).toContainText('not a readable image');
  await shot(page, testInfo, '04-import-summary');
  await page.getByRole('button', { name: 'Done' }).click();

  await expect(page.getByTestId('tile')).toHaveCount(12);
  await expectLabels(page, { 0: 'bird', 4: 'cat', 8: 'dog' });

  // Number keys label the focused image and advance.
  await tile(page, 0).click();
  await page.keyboard.press('2');
  await expect(tile(page, 1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('3');
  await expectLabels(page, { 0: 'cat', 1: 'dog', 2: 'bird' });
  await expect(classCount(page, 'bird')).toHaveText('2');
  await shot(page, testInfo, '05-number-keys');

  // Bulk assignment to a shift-click range.
  await tile(page, 4).click();
  await tile(page, 7).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-bar')).toContainText('4 selected');
  await page.getByLabel('Assign the selection to a class').selectOption({ label: '1 · bird' });
  await expectLabels(page, { 4: 'bird', 5: 'bird', 6: 'bird', 7: 'bird' });
  await expect(classCount(page, 'bird')).toHaveText('6');
  await shot(page, testInfo, '06-bulk-assign');

  // Undo restores the bulk change only.
  await page.keyboard.press('Control+z');
  await expectLabels(page, { 0: 'cat', 1: 'dog', 4: 'cat', 5: 'cat', 6: 'cat', 7: 'cat' });
  await expect(classCount(page, 'bird')).toHaveText('2');
  await shot(page, testInfo, '07-undo');

  // Everything is in the project file: reload and find it again.
  await reload();
  await expect(page.getByTestId('tile')).toHaveCount(12);
  await expectLabels(page, { 0: 'cat', 1: 'dog', 2: 'bird', 4: 'cat', 7: 'cat', 8: 'dog' });
  await expect(classCount(page, 'cat')).toHaveText('5');
  await expect(page.getByTestId('project-stats')).toContainText('12 images');
  await expect(page.getByRole('button', { name: /Redo/ })).toBeEnabled();
  await shot(page, testInfo, '08-after-reload');

  // A class added by mistake is merged into another; a second one is deleted (its images become unlabeled).
  await page.getByLabel('New class name').fill('kitty');
  await page.getByLabel('New class name').press('Enter');
  await expect(page.getByTestId('class-item').filter({ hasText: 'kitty' })).toHaveCount(1);
  await tile(page, 3).click();
  await page.keyboard.press('4');
  await expectLabels(page, { 3: 'kitty' });
  await page.getByRole('button', { name: 'Actions for kitty' }).click();
  await page.getByRole('menuitem', { name: 'Merge into…' }).click();
  await page.getByLabel('Target class').selectOption({ label: 'cat (5)' });
  await page.getByRole('button', { name: 'Merge', exact: true }).click();
  await expect(page.getByTestId('class-item').filter({ hasText: 'kitty' })).toHaveCount(0);
  await expectLabels(page, { 3: 'cat' });
  await page.getByRole('button', { name: 'Actions for dog' }).click();
  await page.getByRole('menuitem', { name: 'Delete…' }).click();
  await page.getByRole('button', { name: 'Delete class' }).click();
  await expect(page.getByTestId('class-item').filter({ hasText: 'dog' })).toHaveCount(0);
  await expect(tile(page, 1)).toHaveAttribute('data-label', '');
}

test.describe('web mode', () => {
  test('create, import with a corrupt file, label by keys, bulk assign, undo, reload', async ({ browser }, testInfo) => {
    const setup = await prepare();
    const server = await startServer(setup.home);
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await journey(page, setup, testInfo, async () => {
        await page.reload();
      });
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await server.stop();
      fs.rmSync(setup.home, { recursive: true, force: true });
    }
  });

  test('dropping image files onto the workspace imports them', async ({ browser }, testInfo) => {
    const setup = await prepare();
    const server = await startServer(setup.home);
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.locator('#project-name').fill('Dropped');
      await page.locator('#project-location').fill(path.join(setup.home, 'projects'));
      await page.getByRole('button', { name: 'Create project' }).click();
      await expect(page.getByRole('heading', { name: 'No images yet' })).toBeVisible();

      const files = ['bird/bird_000.jpg', 'dog/dog_001.jpg'].map((rel) => ({
        name: path.basename(rel),
        base64: fs.readFileSync(path.join(setup.data, rel)).toString('base64')
      }));
      const transfer = await page.evaluateHandle((list) => {
        const dt = new DataTransfer();
        for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'image/jpeg' }));
        return dt;
      }, files);
      await page.locator('.workspace').dispatchEvent('dragover', { dataTransfer: transfer });
      await page.locator('.workspace').dispatchEvent('drop', { dataTransfer: transfer });
      await expect(page.getByTestId('import-summary')).toContainText('Imported 2 images');
      await shot(page, testInfo, '09-drop-import');
      await page.getByRole('button', { name: 'Done' }).click();
      await expect(page.getByTestId('tile')).toHaveCount(2);
      await expect(tile(page, 0)).toHaveAttribute('data-label', '');
      const stored = fs.readdirSync(path.join(setup.home, 'projects', 'Dropped.files')).sort();
      expect(stored).toEqual(['bird_000.jpg', 'dog_001.jpg']);
    } finally {
      await server.stop();
      fs.rmSync(setup.home, { recursive: true, force: true });
    }
  });

  test('refuses a page load without the access token', async ({ browser }) => {
    const setup = await prepare();
    const server = await startServer(setup.home);
    try {
      const page = await browser.newPage();
      const response = await page.goto(server.base);
      expect(response?.status()).toBe(401);
      await expect(page.locator('body')).toContainText('access link');
      // Outside its random base path the server has nothing to say.
      const outside = await page.goto(server.origin + '/');
      expect(outside?.status()).toBe(404);
    } finally {
      await server.stop();
      fs.rmSync(setup.home, { recursive: true, force: true });
    }
  });
});

test.describe('electron', () => {
  test('the same journey in the desktop app', async ({ browserName: _browser }, testInfo) => {
    const binary = electronBinary();
    if (!binary) {
      const reason = 'no Electron binary on this machine (Electron >= 42 downloads it on first use, and this machine is offline)';
      console.log(`Skipping the Electron end-to-end spec: ${reason}.`);
      test.skip(true, reason);
      return;
    }
    const setup = await prepare();
    const app = await _electron.launch({
      executablePath: binary,
      args: [repoRoot, '--no-sandbox'],
      env: { ...process.env, MOCOOP_HOME: setup.home, MOCOOP_PROJECTS_DIR: path.join(setup.home, 'projects') }
    });
    try {
      const page = await app.firstWindow();
      await journey(page, setup, testInfo, async () => {
        await page.reload();
      });
    } finally {
      await app.close();
      fs.rmSync(setup.home, { recursive: true, force: true });
    }
  });
});
