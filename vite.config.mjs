// The renderer's build: renderer/ → dist/renderer, relative asset paths so both server mode (http) and
// Electron (its own protocol) can load the same files.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, sourcemap: true, target: 'es2022' },
});
