import { closeSync, openSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vitest/config";

// Where the Rust server listens during development (`jarvis demo` / `jarvis serve`).
const backend = process.env.JARVIS_DEV_BACKEND ?? "http://127.0.0.1:4000";

/**
 * `dist/` is committed as an empty folder (`dist/.gitkeep`) so the server's static route has a
 * directory to serve before the first build. Vite empties the folder on every build, so put the
 * marker back afterwards instead of disabling `emptyOutDir` (which would let stale hashed assets
 * pile up).
 */
function keepGitkeep(): Plugin {
  let outDir = "dist";
  return {
    name: "jarvis-keep-gitkeep",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      closeSync(openSync(resolve(outDir, ".gitkeep"), "a"));
    },
  };
}

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // Fonts are bundled (no CDN at run time); keep small ones as files, not inlined data URLs.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/socket.io": { target: backend, ws: true, changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
