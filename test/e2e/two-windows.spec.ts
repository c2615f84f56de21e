import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

/**
 * Two browser tabs on one project (web mode): each tab's undo undoes its own labeling only, a
 * template save from a tab that did not see the other's save asks Reload / Overwrite instead of
 * wiping it, and a tab shows the other's class and label changes as they happen.
 */
test('two tabs on one project: own undo, reload-or-overwrite, live refresh', async ({ browser }, testInfo) => {
  test.setTimeout(240_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-windows-'));
  const data = path.join(home, 'images');
  await makeImageFolder(data, ['bird', 'cat', 'dog'], 4);
  const server = await startServer(home);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const a = await context.newPage();
    const b = await context.newPage();
    const errors: string[] = [];
    for (const page of [a, b]) page.on('pageerror', (e) => errors.push(e.message));
    const tile = (page: Page, i: number) => page.locator(`[data-testid=tile][data-index="${i}"]`);
    const shot = async (page: Page, name: string) => screenshot(page, testInfo, `two-windows-${name}`);

    await a.goto(server.url);
    await createProjectWithImages(a, home, 'Birds and pets', { folder: data });
    await expect(a.getByTestId('import-summary')).toContainText('Imported 12 images');
    await a.getByRole('button', { name: 'Done' }).click();
    // The second tab opens the project the server has open.
    await b.goto(server.url);
    await expect(b.getByTestId('tile')).toHaveCount(12);
    await expect(tile(b, 0)).toHaveAttribute('data-label', 'bird');

    // Tab A relabels image 0; tab B relabels image 5 afterwards. Each tab sees the other's label.
    await a.bringToFront();
    await tile(a, 0).click();
    await a.keyboard.press('3');
    await expect(tile(a, 0)).toHaveAttribute('data-label', 'dog');
    await b.bringToFront();
    await tile(b, 5).click();
    await b.keyboard.press('1');
    await expect(tile(b, 5)).toHaveAttribute('data-label', 'bird');
    await expect(tile(b, 0)).toHaveAttribute('data-label', 'dog');
    await expect(tile(a, 5)).toHaveAttribute('data-label', 'bird');

    // Ctrl+Z in tab A undoes A's labeling, never B's (which came later).
    await a.bringToFront();
    await a.keyboard.press('Control+z');
    await expect(tile(a, 0)).toHaveAttribute('data-label', 'bird');
    await expect(tile(a, 5)).toHaveAttribute('data-label', 'bird');
    await expect(a.getByRole('button', { name: /Undo/ })).toBeDisabled();
    await expect(tile(b, 0)).toHaveAttribute('data-label', 'bird');
    await expect(b.getByRole('button', { name: /Undo/ })).toBeEnabled();
    await shot(a, '01-tab-a-after-undo');

    // Tab A renames a class: tab B's sidebar and tiles follow.
    await a.getByRole('button', { name: 'Actions for bird' }).click();
    await a.getByRole('menuitem', { name: 'Rename' }).click();
    await a.getByLabel('New name for bird').fill('parrot');
    await a.getByLabel('New name for bird').press('Enter');
    await expect(a.getByTestId('class-item').filter({ hasText: 'parrot' })).toHaveCount(1);
    await expect(b.getByTestId('class-item').filter({ hasText: 'parrot' })).toHaveCount(1);
    await expect(b.getByTestId('class-item').filter({ hasText: 'bird' })).toHaveCount(0);
    await expect(tile(b, 5)).toHaveAttribute('data-label', 'parrot');
    await b.bringToFront();
    await shot(b, '02-tab-b-follows-rename');

    // Templates: tab A edits, tab B saves other groups first; A's save asks Reload / Overwrite.
    await a.bringToFront();
    await a.keyboard.press('Alt+3');
    await expect(a.getByRole('button', { name: 'Saved', exact: true })).toBeVisible();
    await a.getByRole('button', { name: 'Start from these' }).click();
    const groupsA = a.getByTestId('template-group');
    await expect(groupsA.first()).toBeVisible();
    const countA = await groupsA.count();
    expect(countA).toBeGreaterThan(1);
    await b.bringToFront();
    await b.keyboard.press('Alt+3');
    await expect(b.getByRole('button', { name: 'Saved', exact: true })).toBeVisible();
    await b.getByRole('button', { name: 'Add group' }).click();
    await b.getByLabel('New template for Group 1').fill('a photo of my {}.');
    await b.getByLabel('New template for Group 1').press('Enter');
    await b.getByRole('button', { name: 'Save changes' }).click();
    await expect(b.getByRole('button', { name: 'Saved', exact: true })).toBeVisible();
    await a.bringToFront();
    await expect(a.getByTestId('changed-elsewhere')).toBeVisible();
    await a.getByRole('button', { name: 'Save changes' }).click();
    const banner = a.getByTestId('conflict-banner');
    await expect(banner).toContainText('The template groups changed in another window — reload or overwrite.');
    await expect(banner.getByRole('button', { name: 'Reload' })).toBeVisible();
    await expect(banner.getByRole('button', { name: 'Overwrite' })).toBeVisible();
    // Nothing of B's was wiped: B still shows its own group.
    await expect(b.getByTestId('template-group')).toHaveCount(1);
    await shot(a, '03-tab-a-reload-or-overwrite');
    await a.getByRole('button', { name: 'Switch theme' }).click();
    await shot(a, '03b-tab-a-reload-or-overwrite-dark');
    await a.getByRole('button', { name: 'Switch theme' }).click();

    // Overwrite: A's groups are saved, and tab B (no unsaved edits) shows them.
    await banner.getByRole('button', { name: 'Overwrite' }).click();
    await expect(banner).toHaveCount(0);
    await expect(a.getByRole('button', { name: 'Saved', exact: true })).toBeVisible();
    await expect(b.getByTestId('template-group')).toHaveCount(countA);

    // Few-shot sets: a set sampled in tab A and renamed in tab B shows B's name in A at once.
    await a.keyboard.press('Alt+2');
    await a.getByLabel('Images per class').fill('2');
    await a.getByRole('button', { name: 'Sample set' }).click();
    await expect(a.getByTestId('set-detail')).toContainText('6 images');
    await b.bringToFront();
    await b.keyboard.press('Alt+2');
    await expect(b.getByTestId('set-list')).toContainText('2-shot seed 1');
    await b.getByLabel('Set name', { exact: true }).fill('two per class');
    await b.getByLabel('Set name', { exact: true }).press('Enter');
    await expect(b.getByTestId('set-list')).toContainText('two per class');
    await expect(a.getByTestId('set-list')).toContainText('two per class');
    await expect(a.getByLabel('Set name', { exact: true })).toHaveValue('two per class');
    await a.bringToFront();

    // A measurement is kept: leave the page and come back, the accuracies are still shown.
    await importFixtureModel(a);
    await a.keyboard.press('Alt+3');
    await a.getByRole('button', { name: 'Measure on labeled images' }).click();
    // Progress with the step, counts and time so far instead of a bare "Measuring…" (the first run starts the compute worker).
    await expect(a.getByTestId('measure-progress')).toBeVisible();
    await a
      .getByTestId('measure-progress')
      .filter({ hasText: /Step \d of 3/ })
      .waitFor({ timeout: 10_000 })
      .then(
        () => shot(a, '04a-measuring'),
        () => {} // finished before a step was reported: nothing to show
      );
    await expect(a.getByTestId('group-stats').first()).toContainText('ensemble', { timeout: 60_000 });
    await expect(a.getByTestId('measure-note')).toContainText(/Measured .* with tiny-clip-a in/);
    await a.keyboard.press('Alt+1');
    await a.keyboard.press('Alt+3');
    await expect(a.getByTestId('group-stats').first()).toContainText('ensemble');
    await expect(a.getByRole('button', { name: 'Measure again' })).toBeVisible();
    // The other tab finds the measurement in the project too.
    await b.reload();
    await b.keyboard.press('Alt+3');
    await expect(b.getByTestId('group-stats').first()).toContainText('ensemble');
    await shot(b, '05-tab-b-kept-measurement');
    await b.setViewportSize({ width: 1920, height: 1080 });
    await shot(b, '05b-tab-b-kept-measurement-1920');
    await b.getByRole('button', { name: 'Switch theme' }).click();
    await shot(b, '05c-tab-b-kept-measurement-1920-dark');
    await b.getByRole('button', { name: 'Switch theme' }).click();

    expect(errors).toEqual([]);
  } finally {
    await context.close();
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
