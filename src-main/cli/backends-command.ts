/**
 * `mocoop backends`: which compute engines this machine offers and which one runs each part — the
 * CLIP towers on ONNX Runtime (provider and why others were passed over), the WebGPU adapter Dawn
 * sees, and the TensorFlow.js backend of the losses.
 */
import { type BackendPreference, describeBackend, describeOnnx, initBackend } from '../clip/backend';
import { probeOnnxRuntime } from '../clip/onnx/onnx-towers';
import { probeWebGpu } from '../clip/onnx/webgpu-probe';

export async function backendsReport(preference: BackendPreference): Promise<{ json: Record<string, unknown>; text: string }> {
  const [tfjs, onnx, webgpu] = await Promise.all([initBackend(preference), probeOnnxRuntime(), probeWebGpu()]);
  const json = {
    encoders: describeOnnx(onnx),
    onnxruntime: onnx,
    webgpu: 'adapter' in webgpu ? { ...webgpu.adapter, hardware: webgpu.hardware } : { unavailable: webgpu.unavailable },
    tfjs: { name: tfjs.name, device: tfjs.device, skipped: tfjs.skipped }
  };
  const lines = [
    `Image and text encoders, prompt training: ${describeOnnx(onnx)}`,
    ...onnx.skipped.map((s) => `  not used: ${s.name} — ${s.reason}`),
    'adapter' in webgpu
      ? `WebGPU adapter: ${webgpu.adapter.description || webgpu.adapter.device} (${[webgpu.adapter.vendor, webgpu.adapter.architecture, webgpu.hardware || webgpu.adapter.architecture === 'software' ? '' : 'software'].filter(Boolean).join(', ')})`
      : `WebGPU: ${webgpu.unavailable}`,
    `Losses and router (TensorFlow.js): ${describeBackend(tfjs)}`,
    ...tfjs.skipped.map((s) => `  not used: ${s.reason}`)
  ];
  return { json, text: lines.join('\n') };
}
