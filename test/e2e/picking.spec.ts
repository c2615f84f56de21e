import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { createProjectWithImages, startServer } from './server';

test('few-shot set picked by hand in the grid, with running counts per class', async ({ page }) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-pick-'));
  await makeImageFolder(path.join(home, 'images'), ['ant', 'bee', 'wasp'], 3);
  const server = await startServer(home);
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Picks', { folder: path.join(home, 'images') });
    await page.getByRole('button', { name: 'Done' }).click();

    // Keyboard: ? lists the shortcuts, Alt+2 opens the Few-shot sets page.
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toContainText('Alt+1');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Alt+2');
    await expect(page.getByText('No few-shot set yet.')).toBeVisible();
    await page.getByLabel('Images per class').fill('2');
    await page.getByRole('button', { name: 'Pick by hand in the grid…' }).click();
    const panel = page.getByTestId('pick-panel');
    await expect(page.getByLabel('Images per class to pick')).toHaveValue('2');
    const tile = (i: number) => page.locator(`[data-testid=tile][data-index="${i}"]`);
    await tile(0).click();
    await tile(1).click({ modifiers: ['Shift'] });
    await panel.getByRole('button', { name: /Add selected/ }).click();
    await tile(3).click();
    await panel.getByRole('button', { name: /Add selected/ }).click();
    await expect(panel).toContainText('ant: 2');
    await expect(panel).toContainText('bee: 1');
    await expect(panel.locator('.low')).toHaveCount(2);
    await panel.getByLabel('Set name').fill('my picks');
    await panel.getByRole('button', { name: 'Save set (3)' }).click();
    await expect(panel).toHaveCount(0);
    await expect(page.getByTestId('set-detail')).toContainText('3 images · hand-picked · 2 base class(es)');
    await expect(page.getByTestId('set-detail').getByLabel('Role of wasp')).toHaveValue('none');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await expect(page.getByLabel('Few-shot set')).toContainText('my picks · 3 images');
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
