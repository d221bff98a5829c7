// Hex of bytes without copying them first (Buffer.from(uint8array) copies; a block hash is
// turned into a key ~27,000 times when a 2 GiB file is indexed).
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
