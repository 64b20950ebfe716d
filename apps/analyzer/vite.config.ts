import { defineConfig } from 'vite';

// Preact through esbuild's automatic JSX runtime (tsconfig `jsxImportSource`): no framework plugin needed.
export default defineConfig({
  base: './',
  worker: { format: 'es' },
  // found only inside the worker: pre-bundle it up front, so `vite` (dev) does not reload the page on first use
  optimizeDeps: { include: ['sql.js', 'preact', 'preact/hooks', 'preact/jsx-runtime', 'uplot'] },
  build: {
    target: 'es2022',
    // the sql.js wasm (~650 KB) is a file of its own, never inlined
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  preview: { host: '127.0.0.1', port: 4173 },
  server: { host: '127.0.0.1' },
});
