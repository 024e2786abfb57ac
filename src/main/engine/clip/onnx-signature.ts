// Reads an ONNX file's graph inputs and outputs (names, element types, dims) without loading its weights.
//
// A ViT-B/32 export is hundreds of MB; checking a folder's models must not read (or decode) them. This walks the
// protobuf wire format with positional reads and skips every length-delimited field it does not need, so only a
// few KB of the file are read. ModelProto.graph = 7; GraphProto: initializer = 5, input = 11, output = 12;
// ValueInfoProto: name = 1, type = 2; TypeProto.tensor_type = 1; Tensor: elem_type = 1, shape = 2;
// TensorShapeProto.dim = 1; Dimension: dim_value = 1, dim_param = 2; TensorProto.name = 8.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One dimension: a fixed size, a symbolic name (dynamic), or null when the file leaves it unspecified. */
export type OnnxDim = number | string | null;

/** A graph input or output as the file declares it. */
export interface OnnxValueSignature {
  readonly name: string;
  /** ONNX TensorProto.DataType code (1 float, 7 int64, 10 float16, …); 0 when not a tensor. */
  readonly elemType: number;
  /** null when the file declares no shape. */
  readonly dims: readonly OnnxDim[] | null;
}

/** The declared interface of an ONNX model. */
export interface OnnxSignature {
  /** Graph inputs that are not initializers (what a run must feed). */
  readonly inputs: readonly OnnxValueSignature[];
  readonly outputs: readonly OnnxValueSignature[];
}

/** ONNX element type names for messages. */
export const ONNX_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16',
};

// Small: the reader jumps from header to header and never needs the data between them.
const WINDOW = 4096;

/** Positional reads over a file through one small window (models are read a few bytes at a time). */
class FileBytes {
  readonly size: number;
  readonly #fd: number;
  readonly #buf = Buffer.alloc(WINDOW);
  #start = 0;
  #end = 0;

  constructor(fd: number) {
    this.#fd = fd;
    this.size = fstatSync(fd).size;
  }

  byte(pos: number): number {
    if (pos < this.#start || pos >= this.#end) {
      if (pos >= this.size) throw new Error(`unexpected end of file at byte ${pos}`);
      this.#start = pos;
      this.#end = pos + readSync(this.#fd, this.#buf, 0, WINDOW, pos);
    }
    return this.#buf[pos - this.#start]!;
  }

  bytes(pos: number, length: number): Buffer {
    if (pos + length > this.size) throw new Error(`unexpected end of file at byte ${this.size}`);
    const out = Buffer.alloc(length);
    readSync(this.#fd, out, 0, length, pos);
    return out;
  }
}

/** A protobuf field: its number, wire type, and for varints the value, for length-delimited fields the extent. */
interface Field {
  readonly number: number;
  readonly wire: number;
  readonly value: number;
  readonly start: number;
  readonly end: number;
}

function varint(src: FileBytes, pos: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = src.byte(pos + i);
    // Multiplication, not shifts: values beyond 2^31 (file offsets, int64 dims) must stay exact up to 2^53.
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  throw new Error(`malformed varint at byte ${pos}`);
}

/** The fields of the message occupying [start, end). */
function* fields(src: FileBytes, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const key = varint(src, pos);
    const number = Math.floor(key.value / 8);
    const wire = key.value % 8;
    pos = key.next;
    switch (wire) {
      case 0: {
        const v = varint(src, pos);
        yield { number, wire, value: v.value, start: pos, end: v.next };
        pos = v.next;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint(src, pos);
        const fieldEnd = len.next + len.value;
        if (fieldEnd > end) throw new Error(`field ${number} at byte ${pos} runs past its message`);
        yield { number, wire, value: len.value, start: len.next, end: fieldEnd };
        pos = fieldEnd;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    }
  }
}

function child(src: FileBytes, parent: Field, number: number): Field | undefined {
  for (const f of fields(src, parent.start, parent.end)) if (f.number === number && f.wire === 2) return f;
  return undefined;
}

function text(src: FileBytes, f: Field): string {
  return src.bytes(f.start, f.end - f.start).toString('utf8');
}

// int64 dims are varints of the two's complement; values ≥ 2^63 are negative (-1 means "unknown" in some exports).
function int64(value: number): number {
  return value >= 2 ** 63 ? value - 2 ** 64 : value;
}

function valueInfo(src: FileBytes, info: Field): OnnxValueSignature {
  let name = '';
  let elemType = 0;
  let dims: OnnxDim[] | null = null;
  for (const f of fields(src, info.start, info.end)) {
    if (f.number === 1 && f.wire === 2) name = text(src, f);
    if (f.number !== 2 || f.wire !== 2) continue;
    const tensor = child(src, f, 1);
    if (tensor === undefined) continue;
    for (const t of fields(src, tensor.start, tensor.end)) {
      if (t.number === 1 && t.wire === 0) elemType = t.value;
      if (t.number !== 2 || t.wire !== 2) continue;
      dims = [];
      for (const d of fields(src, t.start, t.end)) {
        if (d.number !== 1 || d.wire !== 2) continue;
        let dim: OnnxDim = null;
        for (const x of fields(src, d.start, d.end)) {
          if (x.number === 1 && x.wire === 0) dim = int64(x.value);
          if (x.number === 2 && x.wire === 2) dim = text(src, x);
        }
        dims.push(typeof dim === 'number' && dim < 0 ? null : dim);
      }
    }
  }
  return { name, elemType, dims };
}

/** Reads the declared inputs (initializers excluded) and outputs of the ONNX model at `path`. */
export function readOnnxSignature(path: string): OnnxSignature {
  const fd = openSync(path, 'r');
  try {
    const src = new FileBytes(fd);
    let graph: Field | undefined;
    for (const f of fields(src, 0, src.size)) if (f.number === 7 && f.wire === 2) graph = f;
    if (graph === undefined) throw new Error('no graph in the file');
    const initializers = new Set<string>();
    const inputs: OnnxValueSignature[] = [];
    const outputs: OnnxValueSignature[] = [];
    for (const f of fields(src, graph.start, graph.end)) {
      if (f.wire !== 2) continue;
      if (f.number === 5) {
        for (const t of fields(src, f.start, f.end)) if (t.number === 8 && t.wire === 2) initializers.add(text(src, t));
      } else if (f.number === 11) inputs.push(valueInfo(src, f));
      else if (f.number === 12) outputs.push(valueInfo(src, f));
    }
    return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
  } catch (e) {
    throw new Error(`${path} is not a readable ONNX model: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** `name int64[batch,77]` for messages. */
export function describeValue(v: OnnxValueSignature): string {
  const dims = v.dims === null ? '' : `[${v.dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
  return `${v.name} ${ONNX_TYPE_NAMES[v.elemType] ?? `type${v.elemType}`}${dims}`;
}
