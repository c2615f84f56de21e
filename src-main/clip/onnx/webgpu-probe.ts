/**
 * What WebGPU adapter this machine offers, asked through Dawn (the optional `webgpu` package) in a
 * short child process, so a driver that hangs or crashes cannot take the app down. A software
 * adapter (llvmpipe, SwiftShader, WARP) is reported but never chosen automatically: it is slower
 * than the CPU provider.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { z } from 'zod';

export const WebGpuAdapter = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean().optional(),
  maxBufferSize: z.number(),
  maxStorageBufferBindingSize: z.number()
});
export type WebGpuAdapter = z.infer<typeof WebGpuAdapter>;

export type WebGpuProbe = { adapter: WebGpuAdapter; hardware: boolean } | { unavailable: string };

const SCRIPT = `
const { create } = require(process.argv[1]);
(async () => {
  const adapter = await create([]).requestAdapter();
  if (!adapter) { process.stdout.write(JSON.stringify({ none: true })); process.exit(0); }
  const i = adapter.info;
  process.stdout.write(JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    isFallbackAdapter: i.isFallbackAdapter, maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }));
  process.exit(0);
})().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e) })); process.exit(0); });
`;

/** A CPU-emulated adapter: Mesa's llvmpipe/lavapipe, Google's SwiftShader, Microsoft's WARP. */
export function isSoftwareAdapter(a: Pick<WebGpuAdapter, 'architecture' | 'description' | 'device' | 'isFallbackAdapter'>): boolean {
  if (a.isFallbackAdapter) return true;
  return /software|llvmpipe|lavapipe|swiftshader|warp|basic render/i.test(`${a.architecture} ${a.description} ${a.device}`);
}

let cached: Promise<WebGpuProbe> | null = null;

export function probeWebGpu(timeoutMs = 15_000): Promise<WebGpuProbe> {
  cached ??= new Promise((resolve) => {
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve('webgpu');
    } catch {
      return resolve({ unavailable: 'the optional webgpu package (Dawn) is not installed' });
    }
    execFile(
      process.execPath,
      ['-e', SCRIPT, entry],
      { timeout: timeoutMs, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, cwd: process.cwd(), maxBuffer: 1 << 20 },
      (error, stdout) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          const reason = error ? String(error.message).split('\n')[0] : 'no answer';
          return resolve({ unavailable: `the WebGPU probe failed (${reason})` });
        }
        const answer = parsed as { none?: boolean; error?: string };
        if (answer.none) return resolve({ unavailable: 'no WebGPU adapter: is a GPU driver with Vulkan, Metal or Direct3D 12 installed?' });
        if (answer.error) return resolve({ unavailable: `WebGPU failed: ${answer.error.slice(0, 200)}` });
        const adapter = WebGpuAdapter.safeParse(parsed);
        if (!adapter.success) return resolve({ unavailable: 'the WebGPU adapter answered something unexpected' });
        resolve({ adapter: adapter.data, hardware: !isSoftwareAdapter(adapter.data) });
      }
    );
  });
  return cached;
}
