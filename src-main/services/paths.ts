import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's own configuration folder (recent projects, settings); MOCOOP_HOME overrides it. */
export function defaultConfigDir(): string {
  if (process.env.MOCOOP_HOME) return path.resolve(process.env.MOCOOP_HOME);
  const base = process.env.XDG_CONFIG_HOME || (process.platform === 'win32' ? process.env.APPDATA : undefined) || path.join(os.homedir(), '.config');
  return path.join(base ?? os.homedir(), 'mocoop-workbench');
}

/** The package root, found by walking up from this module to the package.json. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export function packageVersion(root = packageRoot()): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Where new projects go unless the user picks another folder. */
export function defaultProjectDir(): string {
  return process.env.MOCOOP_PROJECTS_DIR ? path.resolve(process.env.MOCOOP_PROJECTS_DIR) : path.join(os.homedir(), 'MoCoOp Projects');
}
