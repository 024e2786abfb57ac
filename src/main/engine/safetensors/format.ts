// The safetensors container format: parse (never trusting the bytes) and serialize, in memory.
import {
  bfloat16ArrayToFloat32,
  halfArrayToFloat32,
} from './half.ts';

/** Element types a safetensors header may name (the format's own spelling). */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E4M3'
  | 'F8_E5M2'
  | 'U16'
  | 'I16'
  | 'F16'
  | 'BF16'
  | 'U32'
  | 'I32'
  | 'F32'
  | 'U64'
  | 'I64'
  | 'F64';

/** Bytes per element of every known dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8,
};

/** Dtypes that `Safetensors.float32` converts (the floating-point ones with a float32 meaning). */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F16', 'BF16', 'F32', 'F64'];

/** Typed array returned for each dtype by `Safetensors.read` (16-bit floats as their raw bit patterns). */
export type SafetensorsArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

/** One tensor's header entry; `begin`/`end` are byte offsets relative to the start of the data section. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A tensor to write: `data` holds exactly prod(shape) elements of `dtype` (16-bit floats as bit patterns). */
export interface TensorToWrite {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

/** Every problem with a safetensors file or tensor; `tensor` names the offending tensor where there is one. */
export class SafetensorsError extends Error {
  /** The tensor the problem is about, when it is about one. */
  readonly tensor: string | undefined;

  constructor(message: string, tensor?: string) {
    super(message);
    this.name = 'SafetensorsError';
    this.tensor = tensor;
  }
}

/** The reference implementation refuses headers above 100 MB; so does this one, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('safetensors: this reader assumes a little-endian host');
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The top-level keys of a JSON object text in order, duplicates kept. `JSON.parse` silently keeps the last of
 * two equal keys, which would let a file smuggle a second definition of a tensor past validation.
 * Assumes `text` already parsed as a JSON object.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth += 1;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') {
      depth -= 1;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

function describeValue(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 60) ?? String(value);
}

function parseEntry(name: string, raw: unknown): TensorEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(`tensor "${name}": header entry must be an object, got ${describeValue(raw)}`, name);
  }
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw new SafetensorsError(`tensor "${name}": unknown dtype ${describeValue(dtype)}`, name);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(
      `tensor "${name}": shape must be a list of non-negative integers, got ${describeValue(shape)}`,
      name,
    );
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets must be [begin, end] non-negative integers, got ${describeValue(offsets)}`,
      name,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new SafetensorsError(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`, name);
  }
  const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    throw new SafetensorsError(
      `tensor "${name}": ${dtype} [${(shape as number[]).join(', ')}] needs ${expected} bytes but data_offsets ` +
        `[${begin}, ${end}] span ${end - begin}`,
      name,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/**
 * Parses and checks a safetensors header: the tensors (in header order), the metadata and where the data
 * section starts. `totalBytes` is the size of the whole file, so truncation is reported before any data is read.
 */
export function parseSafetensorsHeader(
  prefix: Uint8Array,
  totalBytes: number,
  source: string,
): { entries: TensorEntry[]; metadata: Record<string, string>; dataStart: number } {
  if (totalBytes < 8 || prefix.length < 8) {
    throw new SafetensorsError(`${source}: ${totalBytes} bytes is too short for a safetensors file (8-byte header length missing)`);
  }
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(totalBytes - 8)) {
    throw new SafetensorsError(
      `${source}: header length ${headerLength} runs past the end of the file (${totalBytes} bytes); the file is truncated or not safetensors`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`${source}: header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLength);
  if (prefix.length < 8 + n) throw new SafetensorsError(`${source}: header is incomplete`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError(`${source}: header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`${source}: header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${source}: header must be a JSON object`);
  }
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) {
      throw new SafetensorsError(`${source}: tensor "${key}" is defined twice in the header`, key === METADATA_KEY ? undefined : key);
    }
    seen.add(key);
  }

  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SafetensorsError(`${source}: __metadata__ must be an object of strings`);
      }
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== 'string') {
          throw new SafetensorsError(`${source}: __metadata__ value "${mk}" must be a string, got ${describeValue(mv)}`);
        }
        metadata[mk] = mv;
      }
      continue;
    }
    entries.push(parseEntry(key, value));
  }

  // The tensors must tile the data section exactly: sorted by offset, each starting where the last ended.
  const dataStart = 8 + n;
  const dataLength = totalBytes - dataStart;
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of byOffset) {
    if (entry.begin < cursor) {
      throw new SafetensorsError(
        `${source}: tensor "${entry.name}" data_offsets [${entry.begin}, ${entry.end}] overlap the previous tensor (ends at ${cursor})`,
        entry.name,
      );
    }
    if (entry.begin > cursor) {
      throw new SafetensorsError(
        `${source}: tensor "${entry.name}" starts at ${entry.begin} but the previous tensor ends at ${cursor}; the data section has a gap`,
        entry.name,
      );
    }
    if (entry.end > dataLength) {
      throw new SafetensorsError(
        `${source}: tensor "${entry.name}" needs data bytes [${entry.begin}, ${entry.end}) but the data section has only ` +
          `${dataLength} bytes; the file is truncated`,
        entry.name,
      );
    }
    cursor = entry.end;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(
      `${source}: the tensors cover ${cursor} bytes but the data section holds ${dataLength}; trailing bytes are not allowed`,
    );
  }
  return { entries, metadata, dataStart };
}

/** Copies `bytes` into a fresh, aligned typed array of `dtype`'s element type. */
function typedCopy(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsArray {
  // A fresh, exactly sized copy: Node's Buffer#slice is a view into its (pooled) memory, not a copy.
  const buffer = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'BOOL':
    case 'U8':
    case 'F8_E4M3':
    case 'F8_E5M2':
      return new Uint8Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer);
    case 'I16':
      return new Int16Array(buffer);
    case 'U32':
      return new Uint32Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'F32':
      return new Float32Array(buffer);
    case 'F64':
      return new Float64Array(buffer);
    case 'U64':
      return new BigUint64Array(buffer);
    case 'I64':
      return new BigInt64Array(buffer);
  }
}

/** A parsed, validated safetensors file held in memory; tensors are decoded on request. */
export class Safetensors {
  /** The `__metadata__` strings (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Where the bytes came from, for messages. */
  readonly source: string;
  readonly #entries: Map<string, TensorEntry>;
  readonly #data: Uint8Array;

  /** Wraps an already validated header and its data section; use `parseSafetensors` or `readSafetensorsFile`. */
  constructor(entries: readonly TensorEntry[], metadata: Record<string, string>, data: Uint8Array, source: string) {
    this.#entries = new Map(entries.map((e) => [e.name, e]));
    this.metadata = metadata;
    this.#data = data;
    this.source = source;
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether the file holds a tensor of this name. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The header entry of `name`; throws naming the tensor when it is absent. */
  entry(name: string): TensorEntry {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new SafetensorsError(`${this.source}: no tensor named "${name}"`, name);
    return entry;
  }

  /** The raw little-endian bytes of a tensor (a view into the file's data, not a copy). */
  bytes(name: string): Uint8Array {
    const entry = this.entry(name);
    return this.#data.subarray(entry.begin, entry.end);
  }

  /** A copy of the tensor in its own element type (F16/BF16 as raw 16-bit patterns, I64/U64 as bigint arrays). */
  read(name: string): SafetensorsArray {
    const entry = this.entry(name);
    return typedCopy(entry.dtype, this.bytes(name));
  }

  /** The tensor as float32: F32 copied, F16/BF16 widened exactly, F64 rounded; other dtypes are refused by name. */
  float32(name: string): Float32Array {
    const entry = this.entry(name);
    const raw = this.read(name);
    switch (entry.dtype) {
      case 'F32':
        return raw as Float32Array;
      case 'F16':
        return halfArrayToFloat32(raw as Uint16Array);
      case 'BF16':
        return bfloat16ArrayToFloat32(raw as Uint16Array);
      case 'F64':
        return Float32Array.from(raw as Float64Array);
      default:
        throw new SafetensorsError(
          `${this.source}: tensor "${name}" has dtype ${entry.dtype}; only ${FLOAT_DTYPES.join(', ')} can be read as float32`,
          name,
        );
    }
  }
}

/** Parses a whole safetensors file held in memory; every structural problem throws a `SafetensorsError`. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors data'): Safetensors {
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes, bytes.length, source);
  return new Safetensors(entries, metadata, bytes.subarray(dataStart), source);
}

function checkTensorToWrite(name: string, tensor: TensorToWrite): void {
  if (name.length === 0 || name === METADATA_KEY) {
    throw new SafetensorsError(`tensor name ${JSON.stringify(name)} is not allowed`, name);
  }
  if (!isDtype(tensor.dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${describeValue(tensor.dtype)}`, name);
  if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor "${name}": shape [${tensor.shape.join(', ')}] must hold non-negative integers`, name);
  }
  const expected = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
  if (tensor.data.byteLength !== expected) {
    throw new SafetensorsError(
      `tensor "${name}": ${tensor.dtype} [${tensor.shape.join(', ')}] needs ${expected} bytes, data has ${tensor.data.byteLength}`,
      name,
    );
  }
}

/**
 * Serializes tensors into safetensors bytes. Data is laid out widest dtype first, then by name, so every
 * tensor is naturally aligned; the header lists tensors in that order and is padded with spaces to a
 * multiple of 8 bytes (what the reference writer does).
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const list: [string, TensorToWrite][] =
    tensors instanceof Map
      ? [...(tensors as ReadonlyMap<string, TensorToWrite>).entries()]
      : Object.entries(tensors as Readonly<Record<string, TensorToWrite>>);
  for (const [name, tensor] of list) checkTensorToWrite(name, tensor);
  list.sort(
    ([na, a], [nb, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (na < nb ? -1 : na > nb ? 1 : 0),
  );

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata value "${k}" must be a string`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, tensor] of list) {
    const size = tensor.data.byteLength;
    header[name] = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let cursor = 8 + padded;
  for (const [, tensor] of list) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), cursor);
    cursor += tensor.data.byteLength;
  }
  return out;
}
