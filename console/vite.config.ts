import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// `npm run dev` talks to a running `studyhub serve` (same origin through this proxy);
// STUDYHUB_API points elsewhere.
const api = process.env.STUDYHUB_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    // one small bundle per page group; no source maps shipped (the sources are in the repo)
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 200,
    rollupOptions: {
      output: {
        // readable, stable names: `FormField-<hash>.js`, not `FormField.vue_vue_type_script_setup_true_lang-<hash>.js`
        chunkFileNames: (chunk) => `assets/${chunk.name.replace(/\.vue.*$/, '')}-[hash].js`,
      },
    },
  },
  server: {
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
})
