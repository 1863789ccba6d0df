// A protocol buffers writer for the few wire types an ONNX file needs: varints (int64, int32, enums),
// length-delimited fields (strings, bytes, nested messages) and packed int64s. A message is built as
// a list of already-encoded fields, so a nested message is encoded once, when its parent is written.
//
// Wire format (protobuf's encoding guide): each field is a key varint (field number << 3 | wire type)
// then its payload; wire type 0 is a varint, 2 a length (varint) then that many bytes. Negative
// numbers are never written here (sizes, versions, enum values are all >= 0), so varints of
// non-negative safe integers suffice.

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** An encoded message: its fields' bytes, in the order added. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /** A varint field (int64, int32, enum); 0 is written too (proto3 would omit it, readers accept it). */
  varint(field: number, value: number): this {
    return this.push(key(field, VARINT), varintBytes(value));
  }

  /** A UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A bytes field (raw tensor data). */
  bytes(field: number, value: Uint8Array): this {
    return this.push(key(field, LENGTH_DELIMITED), varintBytes(value.length), value);
  }

  /** A nested message field. */
  message(field: number, value: ProtoMessage): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64 field (dims, ints). */
  packedVarints(field: number, values: readonly number[]): this {
    return this.bytes(field, concat(values.map(varintBytes)));
  }

  /** The message's bytes. */
  finish(): Uint8Array<ArrayBuffer> {
    return concat(this.parts, this.size);
  }

  private push(...parts: Uint8Array[]): this {
    for (const part of parts) {
      this.parts.push(part);
      this.size += part.length;
    }
    return this;
  }
}

function key(field: number, wireType: number): Uint8Array {
  return varintBytes(field * 8 + wireType);
}

/** Base-128 little-endian groups, high bit set on all but the last (a non-negative safe integer). */
function varintBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint needs a whole number >= 0, got ${value}`);
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

function concat(
  parts: readonly Uint8Array[],
  size = parts.reduce((sum, part) => sum + part.length, 0),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
