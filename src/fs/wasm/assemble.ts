// A tiny WebAssembly text assembler: just the subset gear.wat uses (one memory, defined or
// imported, i32 globals, functions with i32/i64 params/locals/result, flat instructions
// with block/loop/if labels).
// It exists so the committed gear.wasm can be rebuilt and checked without external tools:
//   node --import tsx src/fs/wasm/assemble.ts          rewrite gear.wasm from gear.wat
//   node --import tsx src/fs/wasm/assemble.ts --check  fail if gear.wasm is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sleb, sleb64, uleb } from './leb128.ts';

export class WatError extends Error {
  readonly code = 'ERR_WAT';
}

type Sexp = string | Sexp[];

function parse(text: string): Sexp[] {
  const tokens = text
    .replace(/\(;[\s\S]*?;\)/g, ' ')
    .replace(/;;[^\n]*/g, ' ')
    .match(/"[^"]*"|[()]|[^\s()]+/g);
  if (!tokens) throw new WatError('empty module');
  const stack: Sexp[][] = [[]];
  for (const t of tokens) {
    if (t === '(') {
      const list: Sexp[] = [];
      stack.at(-1)!.push(list);
      stack.push(list);
    } else if (t === ')') {
      if (stack.length < 2) throw new WatError('unbalanced )');
      stack.pop();
    } else stack.at(-1)!.push(t);
  }
  if (stack.length !== 1) throw new WatError('unbalanced (');
  return stack[0]!;
}

const utf8 = (s: string) => [...uleb(Buffer.byteLength(s)), ...Buffer.from(s)];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const I32 = 0x7f;
const VALUE_TYPES: Record<string, number> = { i32: I32, i64: 0x7e };

function valueType(t: Sexp | undefined): number {
  const code = typeof t === 'string' ? VALUE_TYPES[t] : undefined;
  if (code === undefined) throw new WatError(`unsupported value type ${String(t)}`);
  return code;
}

const PLAIN: Record<string, number> = {
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'i64.eqz': 0x50,
  'i64.eq': 0x51,
  'i64.ne': 0x52,
  'i64.add': 0x7c,
  'i64.sub': 0x7d,
  'i64.mul': 0x7e,
  'i64.and': 0x83,
  'i64.or': 0x84,
  'i64.xor': 0x85,
  'i64.shl': 0x86,
  'i64.shr_u': 0x88,
  'i64.rotl': 0x89,
  'i32.wrap_i64': 0xa7,
  'i64.extend_i32_u': 0xad,
  else: 0x05,
};
// Memory instructions: opcode and natural alignment (log2).
const MEMORY: Record<string, [number, number]> = {
  'i32.load': [0x28, 2],
  'i32.load8_u': [0x2d, 0],
  'i32.store': [0x36, 2],
  'i32.store8': [0x3a, 0],
  'i64.load': [0x29, 3],
  'i64.load8_u': [0x31, 0],
  'i64.load32_u': [0x35, 2],
};
const BLOCKS: Record<string, number> = { block: 0x02, loop: 0x03, if: 0x04 };

interface Names {
  globals: Map<string, number>;
  locals: Map<string, number>;
}

function lookup(map: Map<string, number>, ref: string, what: string): number {
  if (/^\d+$/.test(ref)) return Number(ref);
  const i = map.get(ref);
  if (i === undefined) throw new WatError(`unknown ${what} ${ref}`);
  return i;
}

function body(words: string[], names: Names): number[] {
  const out: number[] = [];
  const labels: (string | null)[] = [];
  let i = 0;
  const next = () => {
    const w = words[i++];
    if (w === undefined) throw new WatError('instruction needs an operand');
    return w;
  };
  while (i < words.length) {
    const op = next();
    if (op in BLOCKS) {
      const label = words[i]?.startsWith('$') ? next() : null;
      labels.push(label);
      out.push(BLOCKS[op]!, 0x40);
    } else if (op === 'end') {
      if (labels.pop() === undefined) throw new WatError('end without block');
      out.push(0x0b);
    } else if (op === 'br' || op === 'br_if') {
      const ref = next();
      const depth = ref.startsWith('$') ? labels.length - 1 - labels.lastIndexOf(ref) : Number(ref);
      if (depth < 0 || depth >= labels.length) throw new WatError(`unknown label ${ref}`);
      out.push(op === 'br' ? 0x0c : 0x0d, ...uleb(depth));
    } else if (op === 'i32.const') {
      out.push(0x41, ...sleb(Number(next())));
    } else if (op === 'i64.const') {
      out.push(0x42, ...sleb64(next()));
    } else if (op.startsWith('local.')) {
      const code = { 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }[op];
      if (code === undefined) throw new WatError(`unknown instruction ${op}`);
      out.push(code, ...uleb(lookup(names.locals, next(), 'local')));
    } else if (op === 'global.get' || op === 'global.set') {
      out.push(op === 'global.get' ? 0x23 : 0x24, ...uleb(lookup(names.globals, next(), 'global')));
    } else if (op in MEMORY) {
      const [code, align] = MEMORY[op]!;
      const m = words[i]?.match(/^offset=(\d+)$/);
      if (m) i++;
      out.push(code, align, ...uleb(Number(m?.[1] ?? 0)));
    } else if (op in PLAIN) {
      out.push(PLAIN[op]!);
    } else throw new WatError(`unknown instruction ${op}`);
  }
  if (labels.length > 0) throw new WatError('block not closed');
  return [...out, 0x0b];
}

const isList = (s: Sexp): s is Sexp[] => Array.isArray(s);
const head = (s: Sexp) => (isList(s) ? s[0] : undefined);
const exportName = (s: Sexp[]) => s.find((x): x is Sexp[] => head(x) === 'export')?.[1];
const unquote = (s: Sexp | undefined) => (typeof s === 'string' ? s.replace(/^"|"$/g, '') : undefined);

export function assemble(text: string): Uint8Array {
  const mod = parse(text)[0];
  if (!mod || !isList(mod) || mod[0] !== 'module') throw new WatError('expected (module ...)');
  const fields = mod.slice(1).filter(isList);
  const types: number[][] = [];
  const funcs: number[] = [];
  const imports: number[][] = [];
  const memories: number[][] = [];
  const globals: number[][] = [];
  const exports: number[][] = [];
  const codes: number[][] = [];
  const globalNames = new Map<string, number>();
  // (memory MIN) or (memory MIN MAX shared): a shared memory must have a maximum.
  const limits = (f: Sexp[]) => {
    const pages = f.filter((x): x is string => typeof x === 'string' && /^\d+$/.test(x)).map(Number);
    const shared = f.includes('shared');
    if (shared && pages.length !== 2) throw new WatError('a shared memory needs a minimum and a maximum');
    return shared ? [0x03, ...uleb(pages[0]!), ...uleb(pages[1]!)] : [0x00, ...uleb(pages[0] ?? 1)];
  };
  for (const f of fields) {
    const name = typeof f[1] === 'string' && f[1].startsWith('$') ? f[1] : null;
    const exp = unquote(exportName(f));
    if (f[0] === 'memory') {
      if (exp) exports.push([...utf8(exp), 0x02, ...uleb(memories.length + imports.length)]);
      memories.push(limits(f));
    } else if (f[0] === 'import') {
      // (import "module" "name" (memory ...)): the only kind of import supported.
      const what = f[3];
      const [mod, field] = [unquote(f[1]), unquote(f[2])];
      if (
        what === undefined ||
        !isList(what) ||
        what[0] !== 'memory' ||
        mod === undefined ||
        field === undefined
      )
        throw new WatError('only (import "m" "n" (memory ...)) is supported');
      imports.push([...utf8(mod), ...utf8(field), 0x02, ...limits(what)]);
    } else if (f[0] === 'global') {
      const init = f.find((x): x is Sexp[] => head(x) === 'i32.const');
      if (name) globalNames.set(name, globals.length);
      if (exp) exports.push([...utf8(exp), 0x03, ...uleb(globals.length)]);
      globals.push([I32, 0x01, 0x41, ...sleb(Number(init?.[1] ?? 0)), 0x0b]);
    } else if (f[0] === 'func') {
      // Each (param $x T) / (local $x T) / (result T) names one value of type T.
      const locals = new Map<string, number>();
      const params: number[] = [];
      const results: number[] = [];
      const extra: number[] = [];
      const words: string[] = [];
      for (const x of f.slice(1)) {
        if (typeof x === 'string') {
          if (x !== name) words.push(x);
        } else if (x[0] === 'param' || x[0] === 'local') {
          const named = typeof x[1] === 'string' && x[1].startsWith('$');
          if (named) locals.set(x[1] as string, locals.size);
          (x[0] === 'param' ? params : extra).push(valueType(x[named ? 2 : 1]));
        } else if (x[0] === 'result') results.push(valueType(x[1]));
        else if (x[0] !== 'export') throw new WatError(`unsupported func field ${String(x[0])}`);
      }
      if (exp) exports.push([...utf8(exp), 0x00, ...uleb(funcs.length)]);
      funcs.push(types.length);
      types.push([0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results]);
      // Locals are declared as runs of one type.
      const runs: number[][] = [];
      for (const t of extra) {
        const last = runs.at(-1);
        if (last && last[1] === t) last[0]!++;
        else runs.push([1, t]);
      }
      const code = [
        ...uleb(runs.length),
        ...runs.flatMap(([n, t]) => [...uleb(n!), t!]),
        ...body(words, { globals: globalNames, locals }),
      ];
      codes.push([...uleb(code.length), ...code]);
    } else throw new WatError(`unsupported module field ${String(f[0])}`);
  }
  const section = (id: number, items: number[][]) =>
    items.length === 0 ? [] : [id, ...uleb(vec(items).length), ...vec(items)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(
      3,
      funcs.map((t) => uleb(t)),
    ),
    ...section(5, memories),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const wat = new URL('./gear.wat', import.meta.url);
  const wasm = new URL('./gear.wasm', import.meta.url);
  const built = assemble(readFileSync(wat, 'utf8'));
  if (process.argv.includes('--check')) {
    if (!Buffer.from(built).equals(readFileSync(wasm))) {
      console.error('gear.wasm is stale: run node --import tsx src/fs/wasm/assemble.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(wasm, built);
    console.log(`wrote ${fileURLToPath(wasm)} (${built.length} bytes)`);
  }
}
