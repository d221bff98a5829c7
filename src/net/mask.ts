// Which implementation ws uses to mask and unmask frames. Masking every byte in JavaScript
// caps a link near 0.2 GB/s; the native bufferutil addon (or a Node that exports
// websocketMask from node:http) brings it to >1 GB/s. ws picks silently, so we look.
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import 'ws';

export type MaskBackend = 'node' | 'bufferutil' | 'javascript';

export function wsMaskBackend(): MaskBackend {
  if (typeof (http as { websocketMask?: unknown }).websocketMask === 'function') return 'node';
  if (process.env.WS_NO_BUFFER_UTIL) return 'javascript';
  try {
    // Resolve bufferutil the way ws does (from ws's own directory), then check that its
    // native addon, not the JavaScript fallback, is among the loaded modules.
    const requireFromWs = createRequire(createRequire(import.meta.url).resolve('ws'));
    const dir = dirname(requireFromWs.resolve('bufferutil')) + sep;
    const loaded = Object.keys(requireFromWs.cache);
    return loaded.some((f) => f.startsWith(dir) && f.endsWith('.node')) ? 'bufferutil' : 'javascript';
  } catch {
    return 'javascript';
  }
}
