// The reference the hand codecs are held to: protobufjs on the schema as written, a Content
// as an embedded message.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const reference = protobuf.parse(
  readFileSync(new URL('../../proto/resonate.proto', import.meta.url), 'utf8'),
).root;
export const R = {
  Content: reference.lookupType('resonate.Content'),
  Operation: reference.lookupType('resonate.Operation'),
  Head: reference.lookupType('resonate.Head'),
  FileEntry: reference.lookupType('resonate.FileEntry'),
};
export const refEncode = (type: protobuf.Type, v: object) => Buffer.from(type.encode(v).finish());
