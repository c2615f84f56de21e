import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = path.resolve('bin/mocoop.js');

describe('mocoop backends', () => {
  it('reports the encoders engine, the WebGPU adapter or why there is none, and the tfjs backend as JSON', async () => {
    const { stdout } = await run(process.execPath, [bin, 'backends', '--backend', 'cpu', '--json'], { env: { ...process.env, MOCOOP_ONNX_PROVIDER: 'cpu' } });
    const report = JSON.parse(stdout);
    expect(report.encoders).toMatch(/^ONNX Runtime \d+\.\d+\.\d+ on CPU/);
    expect(report.onnxruntime.provider).toBe('cpu');
    expect(report.tfjs.name).toBe('cpu');
    expect(typeof (report.webgpu.unavailable ?? report.webgpu.description)).toBe('string');
  }, 60_000);

  it('falls back to tfjs, saying so, when ONNX Runtime is turned off', async () => {
    const { stdout } = await run(process.execPath, [bin, 'backends', '--backend', 'cpu'], { env: { ...process.env, MOCOOP_ONNX: '0' } });
    expect(stdout).toMatch(/ONNX Runtime unavailable \(turned off \(MOCOOP_ONNX=0\)\): TensorFlow.js runs the encoders/);
    expect(stdout).toMatch(/Losses and router \(TensorFlow.js\): cpu/);
  }, 60_000);
});
