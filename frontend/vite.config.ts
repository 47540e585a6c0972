import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

const backend = "http://127.0.0.1:8000";

// Django serves the built app under /static/ and reads .vite/manifest.json (templates/spa.html).
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: {
    manifest: true,
    outDir: "dist",
    rollupOptions: { input: "index.html" },
  },
  server: {
    proxy: {
      "/api": backend,
      "/accounts": backend,
      "/hooks": backend,
      "/ws": { target: backend, ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    setupFiles: ["test/nodeTypes.setup.ts"],
  },
});
