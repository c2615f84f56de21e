import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { createProjectWithImages, importFixtureModel, screenshot, startServer } from './server';

test('templates: start from the library, validate while typing, drag between groups, auto-group, save', async ({ page }, testInfo) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-tpl-'));
  await makeImageFolder(path.join(home, 'images'), ['rose', 'tulip'], 2);
  const server = await startServer(home);
  const shot = (name: string) => screenshot(page, testInfo, name);
  try {
    await page.goto(server.url);
    await createProjectWithImages(page, home, 'Flowers', { folder: path.join(home, 'images') });
    await page.getByRole('button', { name: 'Done' }).click();
    await importFixtureModel(page);

    await page.getByRole('button', { name: 'Templates', exact: true }).click();
    await page.getByLabel('Built-in groups').selectOption({ label: 'Flowers (Oxford): MoCoOp groups' });
    await page.getByRole('button', { name: 'Start from these' }).click();
    const groups = page.getByTestId('template-group');
    const count = await groups.count();
    expect(count).toBeGreaterThan(1);

    // Validation as you type: a template without {} blocks saving until fixed.
    const first = groups.first().getByLabel('Template', { exact: true }).first();
    const original = await first.inputValue();
    await first.fill('a photo of a flower');
    await expect(groups.first()).toContainText('Needs {}');
    await expect(page.getByRole('button', { name: 'Save changes' })).toBeDisabled();
    await first.fill(original);
    await expect(page.getByRole('button', { name: 'Save changes' })).toBeEnabled();

    await page.getByRole('button', { name: 'Measure on labeled images' }).click();
    await expect(page.getByTestId('group-stats').first()).toContainText('ensemble', { timeout: 30_000 });
    await expect(page.getByTestId('group-stats')).toHaveCount(count);
    await shot('15b-template-accuracy');

    // Drag the last template of group 1 into group 2.
    const before2 = await groups.nth(1).getByLabel('Template', { exact: true }).count();
    const moved = await groups.first().getByLabel('Template', { exact: true }).last().inputValue();
    await groups.first().locator('.trow').last().dragTo(groups.nth(1));
    await expect(groups.nth(1).getByLabel('Template', { exact: true })).toHaveCount(before2 + 1);
    await expect(groups.nth(1).getByLabel('Template', { exact: true }).last()).toHaveValue(moved);
    await shot('15-templates');

    await page.getByRole('button', { name: 'Propose grouping' }).click();
    await expect(page.getByTestId('auto-group-proposal')).toContainText('suggested', { timeout: 30_000 });
    await shot('16-auto-group');
    await page.getByRole('button', { name: 'Apply this grouping' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByRole('button', { name: 'Saved' })).toBeVisible();
    const saved = await groups.count();
    await page.reload();
    await page.getByRole('button', { name: 'Templates', exact: true }).click();
    await expect(page.getByTestId('template-group')).toHaveCount(saved);
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
