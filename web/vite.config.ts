import { defineConfig } from 'vite';

// Run from the repository root as `vite build web` (npm run build): the console lands in web/dist,
// which the server serves at / and /assets/*.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The server's content security policy allows no inline script or data: modules.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
