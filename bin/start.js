#!/usr/bin/env node
// `npm start`: build, then open the Electron app. Where no Electron binary can be had (offline, or a
// machine without a display), say so in one line and start web mode instead.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json', { paths: [root] }));
    const pathFile = path.join(dir, 'path.txt');
    if (!fs.existsSync(pathFile)) return { dir, binary: null };
    const binary = path.join(dir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return { dir, binary: fs.existsSync(binary) ? binary : null };
  } catch {
    return { dir: null, binary: null };
  }
}

function run(command, args) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' }).status ?? 1;
}

let { dir, binary } = electronBinary();
if (!binary && dir) {
  // Electron >= 42 downloads its binary on first use.
  spawnSync(process.execPath, [path.join(dir, 'install.js')], { cwd: root, stdio: 'ignore', timeout: 300_000 });
  binary = electronBinary().binary;
}
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;

if (run('npx', ['electron-vite', 'build', '--logLevel', 'warn']) !== 0) process.exit(1);

const extra = process.argv.slice(2);
if (binary && !headless) {
  const child = spawn(binary, [root, ...extra], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    binary
      ? 'No display found for the Electron window; starting web mode instead.'
      : 'The Electron binary could not be installed (it is downloaded on first use and this machine is offline); starting web mode instead.'
  );
  const child = spawn(process.execPath, [path.join(root, 'bin', 'mocoop.js'), 'serve', ...extra], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
