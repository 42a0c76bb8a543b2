// Electron's preload, bundled into one CommonJS file: a sandboxed preload can require only 'electron', so
// the command list from protocol/ is inlined here rather than loaded.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist/electron',
    emptyOutDir: false,
    minify: false,
    target: 'node20',
    lib: { entry: 'electron/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
