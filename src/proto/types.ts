// Plain TypeScript shapes of the messages in proto/resonate.proto (camelCase field names,
// 64-bit integers as numbers, bytes as Uint8Array). Only src/proto/codec.ts converts them.

export const Kind = {
  Unspecified: 0,
  Put: 1,
  Delete: 2,
  Mkdir: 3,
  Rmdir: 4,
  Symlink: 5,
  Chmod: 6,
  Rename: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const KIND_NAMES: Record<Kind, string> = {
  0: 'unspecified',
  1: 'put',
  2: 'delete',
  3: 'mkdir',
  4: 'rmdir',
  5: 'symlink',
  6: 'chmod',
  7: 'rename',
};

export const EntryType = { Unspecified: 0, File: 1, Directory: 2, Link: 3 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Dot {
  origin: string;
  seq: number;
}

export interface Clock {
  vv: Record<string, number>;
  except: Dot[];
}

export interface Block {
  offset: number;
  length: number;
  hash: Uint8Array;
}

export interface Content {
  size: number;
  digest: Uint8Array;
  blocks: Block[];
  inlineData: Uint8Array;
}

export interface RenameEntry {
  path: string;
  kind: Kind;
  fromClock: Clock;
  toClock: Clock;
  mode: number;
  mtimeMs: number;
  content: Content | null;
  link: string;
}

export interface Operation {
  format: number;
  origin: string;
  seq: number;
  clock: Clock;
  hlc: number;
  path: string;
  kind: Kind;
  mode: number;
  mtimeMs: number;
  content: Content | null;
  link: string;
  to: string;
  entries: RenameEntry[];
}

/** An operation with every field at its default (decoders fill it in; makers spread over it). */
export function blankOperation(): Operation {
  return {
    format: 0,
    origin: '',
    seq: 0,
    clock: { vv: {}, except: [] },
    hlc: 0,
    path: '',
    kind: 0 as Kind,
    mode: 0,
    mtimeMs: 0,
    content: null,
    link: '',
    to: '',
    entries: [],
  };
}

export interface Version {
  dot: Dot;
  clock: Clock;
  hlc: number;
  /** Put (file), Mkdir (directory), Symlink, or Delete (tombstone). */
  kind: Kind;
  mode: number;
  mtimeMs: number;
  content: Content | null;
  link: string;
}

export interface Head {
  versions: Version[];
  accepted: Dot | null;
  covered: Clock;
}

export interface FileEntry {
  type: EntryType;
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
  ctimeMs: number;
  content: Content | null;
  link: string;
  headPath: string;
  version: Dot | null;
}

/** An index entry with every field at its default (decoders fill it in). */
export function blankFileEntry(): FileEntry {
  return {
    type: 0 as EntryType,
    size: 0,
    mtimeMs: 0,
    ino: 0,
    mode: 0,
    ctimeMs: 0,
    content: null,
    link: '',
    headPath: '',
    version: null,
  };
}

export interface Hello {
  protocol: number;
  nodeId: string;
  origin: string;
  nonce: Uint8Array;
  listen: string;
  clusterSize: number;
  /** Random per process start (16 bytes). */
  instance: Uint8Array;
}

export interface Proof {
  mac: Uint8Array;
}

export interface Welcome {
  logClock: Clock;
}

export interface OpBatch {
  ops: Uint8Array[];
  caughtUp: boolean;
  /** Always present once decoded; a sender may leave it out when there are none. */
  patches?: OpPatch[];
}

/** ops[op] lists only the blocks between base's first `head` and last `tail` blocks. */
export interface OpPatch {
  op: number;
  base: Dot;
  head: number;
  tail: number;
}

export interface BlockRequest {
  id: number;
  hash: Uint8Array;
  pathHint: string;
  offsetHint: number;
  length: number;
  /** A run of blocks (proto/resonate.proto): `hash` holds their hashes back to back. */
  runLengths: number[];
}

export interface BlockReply {
  id: number;
  data: Uint8Array;
  missing: boolean;
}

export interface Refusal {
  dot: Dot;
  path: string;
}

export interface MemberSummary {
  nodeId: string;
  origin: string;
  version: number;
  logClock: Clock;
  refused: Refusal[];
  listen: string;
  updatedMs: number;
}

export interface Gossip {
  members: MemberSummary[];
}

export type Frame =
  | { hello: Hello }
  | { proof: Proof }
  | { welcome: Welcome }
  | { ops: OpBatch }
  | { blockRequest: BlockRequest }
  | { blockReply: BlockReply }
  | { gossip: Gossip };
