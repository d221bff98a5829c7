// The gear rolling hash h = (h << 1) + GEAR[byte] (32-bit), and a WebAssembly loop that
// scans for the first position where (h & mask) == 0. Plain JS manages ~0.6 GB/s on this
// loop; the wasm one ~2 GB/s (bench/notes/chunking.md). One instance is shared by every
// Chunker: scans are synchronous, and each caller brings its own hash value in and out.
import { readFileSync } from 'node:fs';

/**
 * Part of the protocol: every machine must cut identical blocks, so this table never changes.
 * GEAR[i] = first 4 bytes (big-endian) of SHA-256("resonate/gear/v1/" + i); test/fs/chunker
 * re-derives it.
 */
export const GEAR: readonly number[] = [
  0x9cfc68b0, 0x2acfb50d, 0xdd299b83, 0xbcb4f198, 0x3525c828, 0x7cdc1f08, 0x8711d400, 0xf19ab049, 0xa6a663ae,
  0xbcbcf4ca, 0xf64b34cd, 0xda953339, 0x6c1da103, 0xd4274695, 0x248e8d8a, 0xd1dc6c58, 0x2df40469, 0x74356ab9,
  0x4accc8d4, 0xbfb6bd09, 0xe7cfa88c, 0x058e0d13, 0xc9a251a5, 0x1aacaeff, 0xd49d8b76, 0x0d9bf9de, 0xf1b0af3c,
  0x9b420603, 0x15343287, 0x424534f6, 0x02eb81e6, 0xaf778ebc, 0x81a084b5, 0xbdea35ce, 0xa0ba4e91, 0xb179facd,
  0x2f867f32, 0x3119b399, 0xbd463151, 0x51fc7b37, 0x63ed3b61, 0x7b138f81, 0x699470c7, 0x5f489aac, 0x2fb14c76,
  0xaf8378c8, 0x9e6d2866, 0x1ea7f729, 0x5eac8c3f, 0x898a1b95, 0x6cde157e, 0x07d2964a, 0x77732289, 0x831676d5,
  0x7becb62d, 0x2cd49775, 0xb0445113, 0xd46ecaed, 0x19e0e398, 0x92c63c91, 0xa47197e0, 0x69fd5cca, 0x38d40180,
  0x0666eadc, 0x8f5f1092, 0x9c3c4a7d, 0xfcc203b1, 0x6ffe029c, 0xa7ab21dd, 0x1680b331, 0xeffb08b2, 0x8407d428,
  0xbe2a382e, 0xda2fc98f, 0xa6d335b8, 0xba338ad3, 0x6ce451fd, 0xefbf520e, 0x1bc17723, 0x27a8ce77, 0xae77b341,
  0x816dd275, 0x00b8f741, 0x09cfafaf, 0x4a03c16e, 0xc93c5a61, 0xbe1c913d, 0x0834b809, 0x881e89e5, 0xaeb72d8e,
  0x3f9c9cef, 0xbea3ec04, 0xd990c74b, 0x5fff14be, 0x1b75c2e2, 0xc40870ae, 0x10e1533c, 0x8fec9455, 0xb2ef3457,
  0xcc7666ae, 0x2d268c97, 0xae79bd02, 0x192534be, 0xd1f936d1, 0x21ab8966, 0xdd155542, 0xd44bb68c, 0x70d92c51,
  0x55a724d4, 0x1693d92c, 0x71b36d05, 0x39e746e6, 0x869134f8, 0x1093a821, 0x5232f594, 0x6e4e7b1e, 0xa23333ad,
  0x5b4e8807, 0xec91c582, 0xb5ae272e, 0xe9a697ee, 0x13096524, 0x57c69e5d, 0xa4f02447, 0xd1c6cfbd, 0x6c903afa,
  0xa59f9450, 0x55ba6152, 0xd59c1647, 0x1c2fe80e, 0xa756cfca, 0x2dc5f1bc, 0x6489b7bb, 0x4572a2ed, 0xe52020cd,
  0x5b49c29a, 0x3cca2f56, 0x5851eead, 0x71145918, 0x4d8526c6, 0xddf3a794, 0x93587dec, 0xa3635339, 0x7a148e50,
  0xe9f8a4ae, 0x21087ed1, 0xdfdf29aa, 0xa57f85af, 0x12dc20ec, 0xb95eeaad, 0xc8e5a7db, 0x7e63e9b0, 0x27e13ff5,
  0x692b42d9, 0x70096868, 0x14c18c11, 0xa1ae1e24, 0x83e0bbaf, 0x87c7dc2a, 0x865718c2, 0x2a88b09c, 0x8798ada7,
  0xcb3ddb6c, 0xfa37f656, 0x6d2062ce, 0xdb7abd35, 0x1dda5102, 0xddbcc599, 0xfb9bd2ac, 0xc25f97b4, 0x74ba53ef,
  0x173bb2b2, 0x84418d2e, 0xa73a77db, 0x808424ec, 0xe7ba2a64, 0x900f331b, 0xd2f3dc2c, 0xde164201, 0x05d4d428,
  0x5ebe383f, 0xed337c4b, 0xcf97a742, 0x84b35859, 0x12ee55c4, 0x6ec2a453, 0x1a2af635, 0x029b7e94, 0xaa580715,
  0x354b069f, 0x98f8e7aa, 0x29b53182, 0xb48991a2, 0x2726c147, 0xdbfd993c, 0x38ed8821, 0x0b12e02d, 0xf7eaf025,
  0x888c748a, 0x32898f9d, 0x2514f1dd, 0x6c99f7b5, 0x8a81cd0b, 0xf97a206d, 0x3764a8a8, 0xc67fd848, 0xb1d39494,
  0x7ed03b2c, 0xeaff4588, 0x32466e6c, 0x82ecee7f, 0x38d92202, 0x117aa9a8, 0xc9ea8fbc, 0x6e61a9c5, 0x865e88fa,
  0x3adbe6c5, 0x96390d2b, 0xc96bc12c, 0x6bf11fcc, 0x5fe97371, 0x892bd2c5, 0xc522fe96, 0x8dde5363, 0x7567e69f,
  0x3f162b90, 0xca5cbf47, 0x22c38db7, 0xcf0f5836, 0x30f8eac6, 0x8054361a, 0x5c6e892a, 0x1f1b4cc8, 0xa84866eb,
  0xae1f820f, 0xaa4eca91, 0xc393cdca, 0x8a001146, 0xd852a631, 0x1ed59886, 0x670481bb, 0xb3cb8516, 0xda79548d,
  0x93b498d8, 0xaf4f580f, 0x7f848d2c, 0xc54995dd, 0x2b1216fe, 0x631fe293, 0x08abf031, 0xc5a69f78, 0x4de71702,
  0x29c40451, 0x82c67ebb, 0x6c3d2996, 0xb2f6f40c,
];

/** Largest number of bytes one scan call accepts (the wasm memory's data window). */
export const SCAN_WINDOW = 2 << 20;
const TABLE_AT = 0;
const DATA_AT = 1024;
/**
 * Read buffers inside the wasm memory ("slots"): the hasher reads a large file into them
 * and chunks it in place, and the hash worker hashes the same bytes through the shared
 * memory, so the data is never copied (copying each 1 MiB into the scan window cost the
 * main thread ~0.3 s per 2 GiB). Slots start on page boundaries.
 */
export const SLOT_BYTES = (1 << 20) + 4096;
const SLOTS_AT = 4 << 20;
const SLOT_COUNT = 12;

// The project's TypeScript lib has no WebAssembly typings (no DOM lib): declare what we use.
interface GearExports {
  h: { value: number };
  scan(p: number, end: number, mask: number): number;
  xxh64(p: number, len: number): bigint;
}
/** A WebAssembly.Memory (a shared one can be posted to a worker). */
export interface WasmMemory {
  buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WasmApi };

/** The compiled module, for the hash worker's own instance (a Module can be posted). */
export const gearModule: object = new WebAssembly.Module(
  readFileSync(new URL('./gear.wasm', import.meta.url)),
);
/** The memory every instance works on: the gear table, the scan window and the slots. */
export const gearMemory: WasmMemory = new WebAssembly.Memory({ initial: 260, maximum: 260, shared: true });

function load(): GearExports {
  const instance = new WebAssembly.Instance(gearModule, { env: { memory: gearMemory } });
  const ex = instance.exports as unknown as GearExports;
  if (gearMemory.buffer.byteLength < SLOTS_AT + SLOT_COUNT * SLOT_BYTES)
    throw new Error('gear.wasm: memory too small');
  if (!(gearMemory.buffer instanceof SharedArrayBuffer)) throw new Error('gear.wasm: memory is not shared');
  const table = new DataView(gearMemory.buffer, TABLE_AT, 1024);
  GEAR.forEach((g, i) => {
    table.setUint32(i * 4, g, true);
  });
  return ex;
}

const wasm = load();
const scanArea = new Uint8Array(gearMemory.buffer, DATA_AT, SCAN_WINDOW);

/** The wasm memory, to share with the hash worker. */
export const sharedMemory = gearMemory.buffer as SharedArrayBuffer;
const freeSlots = Array.from({ length: SLOT_COUNT }, (_, i) => SLOTS_AT + (SLOT_COUNT - 1 - i) * SLOT_BYTES);

/** Offset in sharedMemory of a free slot of SLOT_BYTES, or null if all are taken. */
export function takeSlot(): number | null {
  return freeSlots.pop() ?? null;
}

/** Slots not taken (tests check that every hash gives back what it took). */
export function slotsFree(): number {
  return freeSlots.length;
}

export function releaseSlot(at: number): void {
  if ((at - SLOTS_AT) % SLOT_BYTES !== 0 || at < SLOTS_AT || freeSlots.includes(at))
    throw new RangeError(`releaseSlot: ${at} is not a taken slot`);
  freeSlots.push(at);
}

/** Result of a scan: `cut` = bytes consumed up to and including the cut byte, or -1; `h` = hash after. */
export interface ScanResult {
  cut: number;
  h: number;
}

/**
 * Roll the hash (starting at `h`) over data[start, end) (at most SCAN_WINDOW bytes) and stop
 * at the first byte after which (h & mask) == 0.
 */
export function gearScan(data: Uint8Array, start: number, end: number, h: number, mask: number): ScanResult {
  const n = end - start;
  if (n <= 0 || n > SCAN_WINDOW) throw new RangeError(`gearScan: bad length ${n}`);
  wasm.h.value = h;
  if (data.buffer === gearMemory.buffer) {
    // Already in the wasm memory (a slot): scanned where it is.
    const p = data.byteOffset + start - DATA_AT;
    const r = wasm.scan(p, p + n, mask);
    return { cut: r < 0 ? r : r - p, h: wasm.h.value };
  }
  scanArea.set(data.subarray(start, end));
  const r = wasm.scan(0, n, mask);
  return { cut: r, h: wasm.h.value };
}

/**
 * XXH64 (seed 0) of data[start, end): a fast check for "these bytes are still the block they
 * were" (src/fs/rehash.ts), never a block's identity. Hashed in place when the data is in
 * the wasm memory (a slot), else copied into the scan window first (at most SCAN_WINDOW).
 */
export function fastHash(data: Uint8Array, start: number, end: number): bigint {
  const n = end - start;
  if (n < 0 || n > data.length - start) throw new RangeError(`fastHash: bad range ${start}..${end}`);
  if (data.buffer === gearMemory.buffer) return BigInt.asUintN(64, wasm.xxh64(data.byteOffset + start, n));
  if (n > SCAN_WINDOW) throw new RangeError(`fastHash: ${n} bytes outside the wasm memory`);
  scanArea.set(data.subarray(start, end));
  return BigInt.asUintN(64, wasm.xxh64(DATA_AT, n));
}
