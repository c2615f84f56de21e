import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { spawnCliProcess } from '../helpers/cli';
import { makeImageFolder } from '../helpers/images';
import { FIXTURE_MODEL } from './server';

/** 24 classes, some with long names (they must stay readable everywhere): 6 images each, 3 train and 3 test. */
export const RESULT_CLASSES = Array.from({ length: 24 }, (_, i) =>
  i % 5 === 0 ? `a rather long class name number ${i}` : `class ${String.fromCharCode(97 + i)}`
);

async function cli(home: string, args: string[], timeoutMs = 180_000): Promise<string> {
  const r = await spawnCliProcess(args, home, { timeoutMs });
  if (r.code !== 0) throw new Error(`mocoop ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * A project of 24 classes with finished runs to read, made through the CLI: a base-to-new MoCoOp run
 * (12 base, 12 new classes), CoOp trained with two seeds (a seed spread), and two template groups of
 * the project's own. Returns the project file.
 */
export async function resultsProject(home: string): Promise<string> {
  const root = path.join(home, 'images');
  const files = await makeImageFolder(root, RESULT_CLASSES, 6);
  const rows = ['path,label,split'];
  for (const [label, list] of Object.entries(files)) list.forEach((f, i) => rows.push(`${path.relative(root, f)},${label},${i < 3 ? 'train' : 'test'}`));
  fs.writeFileSync(path.join(root, 'labels.csv'), rows.join('\n'));
  const project = path.join(home, 'projects', 'results.mocoop');
  fs.mkdirSync(path.dirname(project), { recursive: true });
  await cli(home, ['project', 'create', project, '--name', 'Results']);
  await cli(home, ['import', project, '--csv', path.join(root, 'labels.csv')]);
  await cli(home, ['models', 'import', FIXTURE_MODEL]);
  const groups = path.join(home, 'groups.json');
  fs.writeFileSync(
    groups,
    JSON.stringify({
      groups: [
        { name: 'photos', templates: ['a photo of a {}.', 'a good photo of the {}.'] },
        { name: 'art', templates: ['art of the {}.', 'a drawing of a {}.'] }
      ]
    })
  );
  await cli(home, ['templates', project, '--import', groups]);
  await cli(home, ['fewshot', project, '--k', '2', '--seed', '1', '--base-new']);
  await cli(home, ['train', project, '--model', 'tiny-clip-a', '--method', 'mocoop', '--epochs', '2', '--batch-size', '4', '--set', '1', '--json']);
  await cli(home, [
    'train',
    project,
    '--model',
    'tiny-clip-a',
    '--method',
    'coop',
    '--k-experts',
    '1',
    '--epochs',
    '2',
    '--batch-size',
    '8',
    '--seeds',
    '1,2',
    '--json'
  ]);
  return project;
}

/**
 * The results project in a home folder kept between spec files and runs (building it trains three
 * runs, a minute or two): reused while this file and the store's migrations are unchanged and the
 * build finished (a marker written last); rebuilt otherwise. Returns the home folder and the project.
 */
export async function cachedResultsProject(): Promise<{ home: string; project: string }> {
  const hash = createHash('sha256');
  const here = fileURLToPath(import.meta.url);
  for (const file of [here, path.join(path.dirname(here), '../../src-main/store/migrations.ts')]) hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '');
  const home = path.join(os.tmpdir(), `mocoop-e2e-results-${hash.digest('hex').slice(0, 12)}`);
  const done = path.join(home, '.complete');
  const project = path.join(home, 'projects', 'results.mocoop');
  if (fs.existsSync(done) && fs.existsSync(project)) return { home, project };
  fs.rmSync(home, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  await resultsProject(home);
  fs.writeFileSync(done, new Date().toISOString());
  return { home, project };
}

/** The start page, whatever the server had open before (the last test may have left the project open). */
export async function gotoProjects(page: Page, url: string): Promise<void> {
  await page.goto(url);
  const start = page.locator('#open-path');
  const workspace = page.getByRole('button', { name: 'Close project' });
  await start.or(workspace).first().waitFor();
  if (await workspace.isVisible()) {
    await workspace.click();
    await start.waitFor();
  }
}

/** Opens the project from the start page, in the light or the dark theme. */
export async function openResultsProject(page: Page, url: string, project: string, theme: 'light' | 'dark' = 'light'): Promise<void> {
  await gotoProjects(page, url);
  await page.locator('#open-path').fill(project);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  const current = await page.evaluate(() => document.documentElement.dataset.theme);
  if (current !== theme) await page.getByRole('button', { name: 'Switch theme' }).click();
  await page.waitForFunction((t) => document.documentElement.dataset.theme === t, theme);
}
