import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

const root = dirname(fileURLToPath(import.meta.url));
const contract = resolve(root, 'src-main/contract');

export default defineConfig({
  main: {
    build: {
      lib: {
        entry: {
          main: resolve(root, 'src-main/electron/main.ts'),
          'compute-worker': resolve(root, 'src-main/compute/worker.ts'),
          'pca-worker': resolve(root, 'src-main/mocoop/pca-worker.ts')
        },
        formats: ['es']
      },
      externalizeDeps: true
    }
  },
  preload: {
    build: {
      // A sandboxed preload must be one CommonJS script with no imports other than electron.
      lib: { entry: resolve(root, 'src-main/electron/preload.ts'), formats: ['cjs'] },
      externalizeDeps: false,
      rolldownOptions: { output: { entryFileNames: '[name].cjs', codeSplitting: false } }
    }
  },
  renderer: {
    root: resolve(root, 'src-renderer'),
    resolve: { alias: { $contract: contract } },
    plugins: [svelte({ configFile: false, compilerOptions: { runes: true } })],
    build: {
      rolldownOptions: { input: resolve(root, 'src-renderer/index.html') }
    }
  }
});
