/**
 * Go's encoding/gob stream format (pkg.go.dev/encoding/gob, "Encoding Details"):
 *
 *   - an unsigned integer is one byte when < 128, else its byte count negated (0xff = 1 byte
 *     follows, 0xfe = 2, ...) then the bytes big-endian; a signed integer is the unsigned one
 *     with the sign in bit 0 (value << 1, or ^value << 1 | 1 when negative);
 *   - a stream is a run of messages, each `length` (unsigned) then `type id` (signed) then the
 *     value; a *negative* type id announces a type definition: the value is a wireType struct
 *     (fields: 1 ArrayT, 2 SliceT, 3 StructT, 4 MapT, 5-7 GobEncoder/BinaryMarshaler/
 *     TextMarshaler), each holding a CommonType {Name, Id} and the element or field types;
 *   - structs are sent as (field-number delta, value) pairs ending with a 0 delta.
 *
 * An encoder sends each type's definition once, before the first value of that type, so a gob
 * connection starts with a definition message: `1f ff 81 03 01 01 05 "Point" 01 ff 82 ...` is
 * Go's own example (type id -65, StructT, name "Point"). That shape is what is recognised: a
 * length that fits the message, a negative user type id (<= -64: ids below 64 are gob's
 * built-ins), and a wireType that parses. Later value messages (positive id) are recognised in
 * the flow once their definition was seen (`knownTypeIds`).
 */

export interface GobFieldType {
  name: string;
  typeId: number;
}

export interface GobTypeDefinition {
  typeId: number;
  kind: 'array' | 'slice' | 'struct' | 'map' | 'gob_encoder' | 'binary_marshaler' | 'text_marshaler' | 'unknown';
  name: string;
  fields: GobFieldType[];
  /** the definition was cut by the capture */
  truncated: boolean;
}

export interface GobMessage {
  length: number;
  typeId: number;
  definition?: GobTypeDefinition;
}

export interface GobParse {
  messages: GobMessage[];
  /** the stream runs past the captured bytes */
  truncated: boolean;
}

const FIRST_USER_TYPE_ID = 64;

const BUILTIN_TYPES: Record<number, string> = {
  1: 'bool', 2: 'int', 3: 'uint', 4: 'float64', 5: '[]byte', 6: 'string', 7: 'complex128', 8: 'interface{}',
};

class OutOfBytes extends Error {}
class Malformed extends Error {}

class GobCursor {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new Malformed();
    if (this.pos >= this.b.length) throw new OutOfBytes();
    return this.b[this.pos++]!;
  }

  uint(): number {
    const first = this.byte();
    if (first < 0x80) return first;
    const n = 256 - first;
    if (n > 8) throw new Malformed();
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.byte();
    return v;
  }

  int(): number {
    const u = this.uint();
    return u % 2 === 1 ? -Math.floor(u / 2) - 1 : u / 2;
  }

  string(): string {
    const n = this.uint();
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.byte());
    return s;
  }

  /** A struct: (delta, value) pairs until a 0 delta; each field read by its handler. */
  struct(handlers: Record<number, () => void>): void {
    let field = 0;
    for (;;) {
      const delta = this.uint();
      if (delta === 0) return;
      field += delta;
      const handler = handlers[field];
      if (!handler) throw new Malformed();
      handler();
    }
  }
}

const WIRE_KINDS: Record<number, GobTypeDefinition['kind']> = {
  1: 'array', 2: 'slice', 3: 'struct', 4: 'map', 5: 'gob_encoder', 6: 'binary_marshaler', 7: 'text_marshaler',
};

function readDefinition(c: GobCursor, def: GobTypeDefinition): void {
  const common = () => c.struct({ 1: () => { def.name = c.string(); }, 2: () => { c.int(); } });
  const elem = () => { c.int(); };
  const handlers: Record<number, () => void> = {};
  for (const [index, kind] of Object.entries(WIRE_KINDS)) {
    handlers[Number(index)] = () => {
      def.kind = kind;
      if (kind === 'array') c.struct({ 1: common, 2: elem, 3: () => { c.int(); } });
      else if (kind === 'slice') c.struct({ 1: common, 2: elem });
      else if (kind === 'map') c.struct({ 1: common, 2: elem, 3: elem });
      else if (kind === 'struct') c.struct({ 1: common, 2: () => readFields(c, def) });
      else c.struct({ 1: common });
    };
  }
  c.struct(handlers);
}

function readFields(c: GobCursor, def: GobTypeDefinition): void {
  const n = c.uint();
  for (let i = 0; i < n; i++) {
    const field: GobFieldType = { name: '', typeId: 0 };
    def.fields.push(field);
    c.struct({ 1: () => { field.name = c.string(); }, 2: () => { field.typeId = c.int(); } });
  }
}

function readMessage(b: Uint8Array, off: number, size: number, knownTypeIds: ReadonlySet<number>): { message: GobMessage; next: number } | null {
  const header = new GobCursor(b, off, size);
  const length = header.uint();
  const start = header.pos;
  if (length === 0 || start + length > size) throw new Malformed();
  const c = new GobCursor(b, start, start + length);
  const typeId = c.int();
  const message: GobMessage = { length, typeId };
  if (typeId < 0) {
    if (-typeId < FIRST_USER_TYPE_ID) throw new Malformed();
    const def: GobTypeDefinition = { typeId: -typeId, kind: 'unknown', name: '', fields: [], truncated: false };
    message.definition = def;
    try {
      readDefinition(c, def);
    } catch (err) {
      // A definition cut by the capture still counts once its kind is known.
      if (!(err instanceof OutOfBytes) || def.kind === 'unknown') throw err;
      def.truncated = true;
      return { message, next: start + length };
    }
    if (c.pos !== start + length) throw new Malformed();
  } else if (!knownTypeIds.has(typeId)) {
    return null; // a value of a type this flow never defined: not enough to call it gob
  }
  return { message, next: start + length };
}

/**
 * Parses a gob stream fragment (one send). `size` is the send's full length; `knownTypeIds`
 * holds type ids defined earlier in the flow. Null when the bytes are not gob.
 */
export function parseGob(b: Uint8Array, size = b.length, knownTypeIds: ReadonlySet<number> = new Set()): GobParse | null {
  const messages: GobMessage[] = [];
  const known = new Set(knownTypeIds);
  let off = 0;
  try {
    while (off < size) {
      if (off >= b.length) return messages.length > 0 ? { messages, truncated: true } : null;
      const read = readMessage(b, off, size, known);
      if (!read) return null;
      messages.push(read.message);
      if (read.message.definition) known.add(read.message.definition.typeId);
      off = read.next;
    }
  } catch (err) {
    if (err instanceof OutOfBytes && messages.length > 0) return { messages, truncated: true };
    if (err instanceof OutOfBytes || err instanceof Malformed) return null;
    throw err;
  }
  const truncated = off > b.length || messages.some((m) => m.definition?.truncated);
  return messages.length > 0 ? { messages, truncated } : null;
}

function typeName(id: number, defs: ReadonlyMap<number, GobTypeDefinition>): string {
  return BUILTIN_TYPES[id] ?? defs.get(id)?.name ?? `type ${id}`;
}

/** "struct Point {X int, Y int} (type id 65)". */
export function describeGobDefinition(def: GobTypeDefinition, defs: ReadonlyMap<number, GobTypeDefinition> = new Map()): string {
  const name = def.name || '(unnamed)';
  const fields = def.kind === 'struct' ? ` {${def.fields.map((f) => `${f.name} ${typeName(f.typeId, defs)}`).join(', ')}${def.truncated ? ', …' : ''}}` : '';
  return `${def.kind.replace('_', ' ')} ${name}${fields} (type id ${def.typeId})`;
}
