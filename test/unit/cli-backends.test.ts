import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { useTempDir } from '../helpers/suite';

describe('mocoop backends', () => {
  const tmp = useTempDir();

  it('reports the encoders engine, the WebGPU adapter or why there is none, and the tfjs backend as JSON', async () => {
    const { code, stdout } = await runCli(['backends', '--backend', 'cpu', '--json'], tmp.dir, { env: { MOCOOP_ONNX_PROVIDER: 'cpu' } });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.encoders).toMatch(/^ONNX Runtime \d+\.\d+\.\d+ on CPU/);
    expect(report.onnxruntime.provider).toBe('cpu');
    expect(report.tfjs.name).toBe('cpu');
    expect(typeof (report.webgpu.unavailable ?? report.webgpu.description)).toBe('string');
  }, 60_000);

  it('falls back to tfjs, saying so, when ONNX Runtime is turned off', async () => {
    const { code, stdout } = await runCli(['backends', '--backend', 'cpu'], tmp.dir, { env: { MOCOOP_ONNX: '0' } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/ONNX Runtime unavailable \(turned off \(MOCOOP_ONNX=0\)\): TensorFlow.js runs the encoders/);
    expect(stdout).toMatch(/Losses and router \(TensorFlow.js\): cpu/);
  }, 60_000);
});
