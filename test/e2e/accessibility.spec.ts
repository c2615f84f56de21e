import { type Page, expect, test } from '@playwright/test';
import { describeFindings, seriousViolations } from './axe';
import { cachedResultsProject, gotoProjects, openResultsProject } from './results-fixture';
import { startServer } from './server';

/**
 * The accessibility pass: axe-core (injected from node_modules) finds no serious or critical problem on
 * any page of a 24-class project with finished runs, in the light and the dark theme, nor in the
 * dialogs; the workspace is no role="application"; the image grid's cells sit in rows and the focused
 * one is the grid's aria-activedescendant; dialogs keep the focus.
 */
test.use({ bypassCSP: true });

const PAGES = ['Images', 'Few-shot sets', 'Templates', 'Zero-shot', 'Train', 'Routing', 'Evaluate', 'Classify', 'Models'];
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

async function openProject(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await openResultsProject(page, server!.url, project, theme);
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name, exact: true });

for (const theme of ['light', 'dark'] as const) {
  test(`no serious or critical axe findings on any page (${theme} theme)`, async ({ page }) => {
    test.setTimeout(240_000);
    await gotoProjects(page, server!.url);
    const findings: string[] = [];
    const check = async (where: string) => {
      const found = await seriousViolations(page);
      if (found.length) findings.push(describeFindings(`${where} (${theme})`, found));
    };
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) await page.getByRole('button', { name: 'Switch theme' }).click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    await check('Projects');
    await page.locator('#open-path').fill(project);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(page.getByRole('navigation', { name: 'Pages' })).toBeVisible();
    for (const name of PAGES) {
      await tab(page, name).click();
      await expect(tab(page, name)).toHaveAttribute('aria-current', 'page');
      // What each page loads on arrival (runs, maps, models) is there before the check.
      if (name === 'Images') await expect(page.locator('[data-testid=tile]').first()).toBeVisible();
      if (name === 'Routing') await expect(page.getByTestId('feature-map').locator('circle').first()).toBeVisible();
      if (name === 'Evaluate') await expect(page.getByTestId('confusion')).toBeVisible();
      if (name === 'Models') await expect(page.getByTestId('models-table')).toBeVisible();
      await page.waitForLoadState('networkidle');
      await check(name);
    }
    // Dialogs: the image viewer, the shortcuts, the import dialog, an evaluated image viewed large.
    await tab(page, 'Images').click();
    await page.locator('[data-testid=tile][data-index="0"]').click();
    await page.keyboard.press('Space');
    await expect(page.getByTestId('image-viewer')).toBeVisible();
    await expect(page.getByTestId('viewer-prediction')).not.toContainText('…');
    await check('Image viewer (Images)');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('image-viewer')).toHaveCount(0);
    await page.keyboard.press('?');
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    await check('Keyboard shortcuts dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Import images' }).first().click();
    await expect(page.getByRole('dialog', { name: 'Import images' })).toBeVisible();
    await check('Import dialog');
    await page.keyboard.press('Escape');
    await tab(page, 'Evaluate').click();
    await page.getByTestId('eval-gallery').getByRole('button').first().click();
    await expect(page.getByTestId('result-viewer')).toBeVisible();
    await check('Image viewed large (Evaluate)');
    await page.keyboard.press('Escape');
    expect(findings, findings.join('\n')).toEqual([]);
  });
}

test('the workspace is no application; grid cells sit in rows and the focused one is the active descendant', async ({ page }) => {
  await openProject(page, 'light');
  await expect(page.locator('[role=application]')).toHaveCount(0);
  const grid = page.getByRole('grid', { name: 'Images' });
  await expect(grid).toBeVisible();
  const tile = page.locator('[data-testid=tile][data-index="7"]');
  await tile.click();
  const active = await grid.getAttribute('aria-activedescendant');
  expect(active).toBe(await tile.getAttribute('id'));
  await expect(page.locator(`#${active}`)).toHaveAttribute('role', 'gridcell');
  // Every cell's parent is a row; every row belongs to the grid.
  expect(await page.locator('[role=gridcell]').evaluateAll((cells) => cells.every((c) => c.parentElement?.getAttribute('role') === 'row'))).toBe(true);
  expect(await page.locator('[role=row]').evaluateAll((rows) => rows.every((r) => r.closest('[role=grid]') !== null))).toBe(true);
  // The keyboard moves the focus, and the active descendant follows it.
  await page.keyboard.press('ArrowRight');
  await expect(grid).toHaveAttribute('aria-activedescendant', (await page.locator('[data-testid=tile][data-index="8"]').getAttribute('id'))!);
});

test('dialogs keep the focus: Tab and Shift+Tab cycle inside, a click behind does not take it out', async ({ page }) => {
  await openProject(page, 'light');
  await page.getByRole('button', { name: 'Import images' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Import images' });
  await expect(dialog).toBeVisible();
  const inside = () => page.evaluate(() => !!document.activeElement?.closest('[role=dialog]'));
  expect(await inside()).toBe(true);
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await inside(), `focus left the dialog after ${i + 1} Tab presses`).toBe(true);
  }
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Shift+Tab');
    expect(await inside(), `focus left the dialog after ${i + 1} Shift+Tab presses`).toBe(true);
  }
  // Focus moved out by a script comes back.
  await page.evaluate(() => (document.querySelector('nav[aria-label=Pages] button') as HTMLElement).focus());
  expect(await inside()).toBe(true);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
});
