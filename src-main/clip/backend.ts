/**
 * Compute backend choice at start-up: tfjs-node-gpu (CUDA) → tfjs-node → wasm (SIMD) → cpu. Each
 * optional module is imported in try/catch, so a missing or broken install falls through cleanly.
 */
import type { OnnxRuntimeInfo } from './onnx/onnx-towers';
import { tf } from './tf';

export const BACKEND_PREFERENCES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

export interface BackendInfo {
  /** What was asked for and what runs. */
  preference: BackendPreference;
  name: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** The tfjs backend name registered in the engine. */
  tfBackend: string;
  device: string;
  /** Why earlier candidates were skipped, in order: shown to users who expected the GPU. */
  skipped: { name: string; reason: string }[];
  /** ONNX Runtime, which runs the CLIP towers (encoding, and the text tower of prompt learning) where present. */
  onnx?: OnnxRuntimeInfo;
}

type Importer = (specifier: string) => Promise<unknown>;

const defaultImporter: Importer = (specifier) => import(specifier);

function firstLine(error: unknown): string {
  const message = String((error as Error)?.message ?? error).split('\n')[0]!;
  // A package that is not installed is the common case; say so instead of quoting the module loader.
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(message);
  if (missing) return `${missing[1]!.split('/').slice(0, 2).join('/')} is not installed`;
  return message.slice(0, 300);
}

async function tryNative(specifier: string, importer: Importer): Promise<void> {
  await importer(specifier);
  if (!tf.findBackend('tensorflow')) throw new Error(`${specifier} loaded but registered no "tensorflow" backend`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${specifier}: the backend failed to initialise`);
}

export async function initBackend(preference: BackendPreference = 'auto', importer: Importer = defaultImporter): Promise<BackendInfo> {
  const skipped: BackendInfo['skipped'] = [];
  const wants = (name: BackendInfo['name']) => preference === 'auto' || preference === name;

  if (wants('tensorflow-gpu')) {
    try {
      await tryNative('@tensorflow/tfjs-node-gpu', importer);
      return { preference, name: 'tensorflow-gpu', tfBackend: 'tensorflow', device: 'CUDA GPU (libtensorflow)', skipped };
    } catch (error) {
      skipped.push({
        name: 'tensorflow-gpu',
        reason: `GPU backend unavailable: ${firstLine(error)}. It needs an NVIDIA GPU with CUDA and "npm install @tensorflow/tfjs-node-gpu".`
      });
    }
  }
  if (wants('tensorflow')) {
    try {
      await tryNative('@tensorflow/tfjs-node', importer);
      return { preference, name: 'tensorflow', tfBackend: 'tensorflow', device: 'CPU (libtensorflow)', skipped };
    } catch (error) {
      skipped.push({
        name: 'tensorflow',
        reason: `native CPU backend unavailable: ${firstLine(error)} (optional: "npm install @tensorflow/tfjs-node" makes the CPU faster where it installs).`
      });
    }
  }
  if (wants('wasm')) {
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      await tf.ready();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return {
        preference,
        name: 'wasm',
        tfBackend: 'wasm',
        device: `CPU (WebAssembly${simd ? ', SIMD' : ''}${threads ? ', threads' : ', 1 thread'})`,
        skipped
      };
    } catch (error) {
      skipped.push({ name: 'wasm', reason: `wasm backend unavailable: ${firstLine(error)}` });
    }
  }
  if (wants('cpu') || preference === 'auto') {
    await tf.setBackend('cpu');
    await tf.ready();
    return { preference, name: 'cpu', tfBackend: 'cpu', device: 'CPU (plain JavaScript, slow)', skipped };
  }
  throw new Error(
    `The "${preference}" compute backend is not available here: ${skipped.map((s) => s.reason).join('; ')}. Choose "auto" to use the best available one.`
  );
}

export function describeBackend(info: BackendInfo): string {
  return `${info.name} · ${info.device}`;
}

/** ONNX Runtime's part in words: "ONNX Runtime 1.30.0 on CPU, 2 threads". */
export function describeOnnx(info: OnnxRuntimeInfo | undefined): string {
  if (!info) return 'ONNX Runtime: not checked';
  if (info.unavailable || !info.provider) return `ONNX Runtime unavailable (${info.unavailable ?? 'no provider'}): TensorFlow.js runs the encoders`;
  const where =
    info.provider === 'cpu'
      ? `CPU, ${info.threads} thread(s)`
      : info.provider === 'webgpu' && info.webgpuAdapter
        ? `WebGPU (${info.webgpuAdapter.description || info.webgpuAdapter.vendor})`
        : info.provider.toUpperCase();
  return `ONNX Runtime ${info.version ?? ''} on ${where}`.replace(/\s+/g, ' ');
}
