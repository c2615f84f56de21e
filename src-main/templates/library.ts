/**
 * The built-in template library (`templates/library.json`: template sets and MoCoOp's groupings). Below
 * the services: training and the compute worker read it without loading them.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TemplateLibrary {
  sets: { id: string; name: string; description?: string; domain?: string; templates: string[] }[];
  groupings: { id: string; name: string; domain?: string; groups: string[][] }[];
}

/** The package root: the first folder above this module with a package.json (as `services/paths.ts: packageRoot`). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export function loadTemplateLibrary(): TemplateLibrary {
  const file = path.join(packageRoot(), 'templates', 'library.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateLibrary;
  } catch {
    // Bundled builds may not sit beside the templates folder; fall back to the copy in the package.
    return createRequire(import.meta.url)('../../templates/library.json') as TemplateLibrary;
  }
}
