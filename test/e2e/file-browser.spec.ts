import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { makeImageFolder } from '../helpers/images';
import { FIXTURE_MODEL, repoRoot, screenshot, startServer } from './server';

/**
 * Web mode as a remote client: a path field's Browse… opens the server's folders (breadcrumbs, a
 * filter, a FIFO never listed), a project file is picked from them and opened, and the Evaluate page
 * downloads a run's report folder to the browser as one zip.
 */
test('browse the server for a project file, then download a report as a zip', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-e2e-browse-'));
  const work = path.join(home, 'work');
  const images = path.join(work, 'images');
  await makeImageFolder(images, ['ant', 'bee'], 3);
  const rows = ['path,label,split'];
  for (const c of ['ant', 'bee']) rows.push(`images/${c}/${c}_000.jpg,${c},train`, `images/${c}/${c}_001.jpg,${c},train`, `images/${c}/${c}_002.jpg,${c},test`);
  fs.writeFileSync(path.join(work, 'labels.csv'), rows.join('\n'));
  const project = path.join(work, 'insects.mocoop');
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [path.join(repoRoot, 'bin/mocoop.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, MOCOOP_HOME: home },
      encoding: 'utf8'
    });
  cli('project', 'create', project, '--name', 'Insects');
  cli('import', project, '--csv', path.join(work, 'labels.csv'));
  cli('fewshot', project, '--k', '1', '--seed', '1');
  cli('train', project, '--model', FIXTURE_MODEL, '--method', 'zeroshot');
  execFileSync('mkfifo', [path.join(work, 'pipe.mocoop')]);

  const server = await startServer(home);
  try {
    await page.goto(server.url);
    await page.getByTestId('open-path-browse').click();
    const dialog = page.getByRole('dialog', { name: 'Project file (.mocoop): choose on the server' });
    await expect(dialog).toBeVisible();
    // It starts at the server's home folder.
    await expect(dialog.getByLabel('Location on the server')).toHaveValue(os.homedir());
    await expect(dialog.getByLabel('Show')).toHaveValue('mocoop');

    // A typed location, then one click into a folder.
    await dialog.getByLabel('Location on the server').fill(home);
    await dialog.getByRole('button', { name: 'Go', exact: true }).click();
    const entries = dialog.getByTestId('file-entries');
    await entries.getByRole('button', { name: 'work', exact: true }).click();
    const crumbs = dialog.getByTestId('file-crumbs');
    await expect(crumbs.locator('[aria-current=location]')).toHaveText('work');
    await expect(crumbs.getByRole('button', { name: path.basename(home), exact: true })).toBeVisible();
    // Only folders and .mocoop files; the FIFO named like a project is never listed.
    await expect(entries.getByRole('button')).toHaveText([/images/, /insects\.mocoop/]);
    await expect(dialog).toContainText('1 special file(s) or broken link(s) not shown');
    await dialog.getByLabel('Show').selectOption('all');
    await expect(entries.getByRole('button', { name: /labels\.csv/ })).toBeVisible();
    await screenshot(page, testInfo, '60-file-browser');

    await entries.getByRole('button', { name: /insects\.mocoop/ }).click();
    await expect(dialog.getByTestId('file-browser-target')).toHaveText(project);
    await dialog.getByRole('button', { name: 'Choose file' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.locator('#open-path')).toHaveValue(project);
    // Breadcrumbs back up, and a wrong typed path is answered in words.
    await page.getByTestId('open-path-browse').click();
    await expect(crumbs.locator('[aria-current=location]')).toHaveText('work');
    await crumbs.getByRole('button', { name: path.basename(home), exact: true }).click();
    await expect(entries.getByRole('button', { name: 'work', exact: true })).toBeVisible();
    await dialog.getByLabel('Location on the server').fill(path.join(work, 'labels.csv'));
    await dialog.getByRole('button', { name: 'Go', exact: true }).click();
    await expect(dialog.getByTestId('file-browser-error')).toHaveText(`${path.join(work, 'labels.csv')} is a file, not a folder.`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Open', exact: true }).click();

    // Evaluate: the report folder, downloaded as one zip.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect(page.getByTestId('run-details')).toContainText('test images');
    const reports = path.join(home, 'reports');
    await page.locator('#report-dir').fill(reports);
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download (zip)' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^report-zeroshot-.+\.zip$/);
    const zip = path.join(home, 'report.zip');
    await download.saveAs(zip);
    const listing = execFileSync('python3', ['-m', 'zipfile', '-l', zip], { encoding: 'utf8' });
    for (const name of ['report.html', 'metrics.json', 'predictions.csv']) expect(listing).toContain(name);
    execFileSync('python3', ['-m', 'zipfile', '-t', zip]);
    // Also saved on the server.
    expect(fs.readdirSync(reports)).toHaveLength(1);
    await expect(page.getByTestId('report-written')).toContainText('report.html');
    await screenshot(page, testInfo, '61-evaluate-download-zip');
  } finally {
    await server.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
});
