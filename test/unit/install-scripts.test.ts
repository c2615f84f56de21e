import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));

describe('package.json install scripts', () => {
  it('approves every install step users need and skips only the offline-failing CUDA download of onnxruntime-node', () => {
    for (const name of ['better-sqlite3', 'esbuild', 'electron', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'])
      expect(pkg.allowScripts[name], name).toBe(true);
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  });

  it('covers every dependency of the project that has an install script', () => {
    const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
    const withScripts = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([where, entry]) => where.startsWith('node_modules/') && entry.hasInstallScript)
      .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) expect(Object.keys(pkg.allowScripts), `${name} has an install script not covered by allowScripts`).toContain(name);
  });

  it('ships ONNX Runtime and keeps the GPU backends optional', () => {
    expect(pkg.dependencies['onnxruntime-node']).toMatch(/^\d/);
    expect(Object.keys(pkg.optionalDependencies)).toEqual(expect.arrayContaining(['@tensorflow/tfjs-node-gpu', 'webgpu']));
  });
});
