import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Served by the innoloan binary at /console/, from files embedded at compile time.
export default defineConfig({
  base: "/console/",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // One chunk for the app and one for ECharts keeps the page to a few requests.
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        manualChunks: { echarts: ["echarts/core", "echarts/charts", "echarts/components", "echarts/renderers"] },
      },
    },
  },
});
