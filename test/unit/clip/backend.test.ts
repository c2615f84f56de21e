import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src-main/clip/backend';
import { tf } from '../../../src-main/clip/tf';

const missing = (specifier: string) => Promise.reject(new Error(`Cannot find module '${specifier}'`));

describe('compute backend selection', () => {
  it('falls through missing native modules to wasm, recording why each was skipped', async () => {
    const tried: string[] = [];
    const info = await initBackend('auto', (s) => {
      tried.push(s);
      return missing(s);
    });
    expect(tried).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.skipped[0]!.reason).toBe(
      'GPU backend unavailable: @tensorflow/tfjs-node-gpu is not installed. It needs an NVIDIA GPU with CUDA and "npm install @tensorflow/tfjs-node-gpu".'
    );
  });

  it('treats a module that loads but registers no backend as unavailable', async () => {
    const info = await initBackend('auto', async () => ({}));
    expect(info.name).toBe('wasm');
    expect(info.skipped[0]!.reason).toContain('registered no');
  });

  it('honours a forced backend and refuses one that cannot load', async () => {
    expect((await initBackend('cpu', missing)).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await expect(initBackend('tensorflow-gpu', missing)).rejects.toThrow(/not available/);
  });
});
