// Safetensors reader/writer: round trips, the byte layout the spec prescribes, and every malformed-file refusal.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  float32ToBfloat16Array,
  float32ToHalfArray,
  parseSafetensors,
  readSafetensorsFile,
  SafetensorsError,
  serializeSafetensors,
  writeSafetensorsFile,
  type TensorToWrite,
} from '../../../../src/main/engine/safetensors/index.ts';

/** Builds a file exactly as the spec describes: u64 LE header length, header text, data. */
function handBuilt(header: string, data: number[] | Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function parseError(bytes: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(bytes, 'test.safetensors');
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    return error as SafetensorsError;
  }
  throw new Error('expected the file to be refused');
}

const dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('round trip', () => {
  it('keeps every dtype, shape, value and the metadata', () => {
    const tensors: Record<string, TensorToWrite> = {
      'a.f32': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-30, -7]) },
      'b.f64': { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
      'c.i64': { dtype: 'I64', shape: [3], data: new BigInt64Array([1n, -2n, 9007199254740993n]) },
      'd.i32': { dtype: 'I32', shape: [1, 1], data: new Int32Array([-5]) },
      'e.u8': { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      'f.bool': { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      'g.f16': { dtype: 'F16', shape: [3], data: float32ToHalfArray([1, -0.5, 65504]) },
      'h.bf16': { dtype: 'BF16', shape: [2], data: float32ToBfloat16Array([1, -3]) },
      'i.scalar': { dtype: 'F32', shape: [], data: new Float32Array([42]) },
      'j.empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    };
    const file = parseSafetensors(serializeSafetensors(tensors, { format: 'pt', note: 'ünïcode' }));
    expect(file.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(file.names().sort()).toEqual(Object.keys(tensors).sort());
    expect([...file.float32('a.f32')]).toEqual([...new Float32Array([1, -2, 3.5, 0, 1e-30, -7])]);
    expect(file.entry('a.f32').shape).toEqual([2, 3]);
    expect([...(file.read('b.f64') as Float64Array)]).toEqual([Math.PI, -1e300]);
    expect([...(file.read('c.i64') as BigInt64Array)]).toEqual([1n, -2n, 9007199254740993n]);
    expect([...(file.read('d.i32') as Int32Array)]).toEqual([-5]);
    expect([...(file.read('e.u8') as Uint8Array)]).toEqual([0, 128, 255]);
    expect([...(file.read('f.bool') as Uint8Array)]).toEqual([1, 0]);
    expect([...file.float32('g.f16')]).toEqual([1, -0.5, 65504]);
    expect([...file.float32('h.bf16')]).toEqual([1, -3]);
    expect(file.entry('i.scalar').shape).toEqual([]);
    expect([...file.float32('i.scalar')]).toEqual([42]);
    expect(file.float32('j.empty').length).toBe(0);
  });

  it('writes the layout the spec prescribes: padded header, widest dtype first, then by name', () => {
    const bytes = serializeSafetensors(
      {
        zeta: { dtype: 'F32', shape: [1], data: new Float32Array([2]) },
        alpha: { dtype: 'F16', shape: [1], data: float32ToHalfArray([1]) },
        beta: { dtype: 'F64', shape: [1], data: new Float64Array([3]) },
      },
      { k: 'v' },
    );
    const json =
      '{"__metadata__":{"k":"v"},' +
      '"beta":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"zeta":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"alpha":{"dtype":"F16","shape":[1],"data_offsets":[12,14]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const data = new Uint8Array(14);
    data.set(new Uint8Array(new Float64Array([3]).buffer), 0);
    data.set(f32Bytes([2]), 8);
    data.set([0x00, 0x3c], 12);
    expect([...bytes]).toEqual([...handBuilt(padded, data)]);
    expect((bytes.length - 14) % 8).toBe(0);
  });

  it('reads a hand-built file whose header is unpadded and out of order', () => {
    const header =
      '{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"__metadata__":{"a":"b"},' +
      '"v":{"shape":[1],"dtype":"F32","data_offsets":[0,4]}}';
    const file = parseSafetensors(handBuilt(header, f32Bytes([5, 6, 7])));
    expect([...file.float32('v')]).toEqual([5]);
    expect([...file.float32('w')]).toEqual([6, 7]);
    expect(file.metadata).toEqual({ a: 'b' });
  });

  it('writes atomically to disk and reads the file back, leaving no temporary file', async () => {
    const path = join(dir, 'weights.safetensors');
    writeFileSync(path, 'an older file that must be replaced whole');
    await writeSafetensorsFile(path, { x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const file = await readSafetensorsFile(path);
    expect([...file.float32('x')]).toEqual([1, 2]);
    expect(readdirSync(dir)).toEqual(['weights.safetensors']);
  });

  it('refuses to write data that does not match its shape, naming the tensor', () => {
    expect(() =>
      serializeSafetensors({ bad: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    ).toThrow(/tensor "bad": F32 \[3\] needs 12 bytes, data has 8/);
  });
});

describe('16-bit floats', () => {
  it('encodes known IEEE half patterns, rounding ties to even', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up to infinity
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal → even (0)
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal ulps → even (2)
      [1 + 2 ** -11, 0x3c00], // tie → even
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [Infinity, 0x7c00],
      [-0, 0x8000],
    ];
    for (const [value, bits] of cases) expect(float32ToHalfArray([value])[0], `${value}`).toBe(bits);
    expect(float32ToHalfArray([NaN])[0]! & 0x7fff).toBeGreaterThan(0x7c00);
  });

  it('widens every finite half pattern exactly and narrows it back to the same bits', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = all.filter((b) => (b & 0x7c00) !== 0x7c00);
    const bytes = serializeSafetensors({ h: { dtype: 'F16', shape: [finite.length], data: finite } });
    const widened = parseSafetensors(bytes).float32('h');
    expect(widened[0x3555]).toBeCloseTo(0.333251953125, 12);
    expect([...float32ToHalfArray(widened)]).toEqual([...finite]);
  });

  it('rounds bfloat16 to nearest even and widens it exactly', () => {
    expect([...float32ToBfloat16Array([1, -3, 1 + 2 ** -8, 1 + 3 * 2 ** -8])]).toEqual([0x3f80, 0xc040, 0x3f80, 0x3f82]);
    const bytes = serializeSafetensors({ b: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0x4049]) } });
    expect([...parseSafetensors(bytes).float32('b')]).toEqual([1, 3.140625]);
  });
});

describe('malformed files are refused with a clear message', () => {
  const ok = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  it('a file shorter than the 8-byte length', () => {
    expect(parseError(new Uint8Array(5)).message).toMatch(/too short/);
  });

  it('a header length beyond the end of the file', () => {
    const bytes = handBuilt(ok, f32Bytes([1, 2]));
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    expect(parseError(bytes).message).toMatch(/header length 1099511627776 runs past the end of the file/);
  });

  it('a header that is not JSON, or not an object', () => {
    expect(parseError(handBuilt('{"t": oops}', [])).message).toMatch(/not valid JSON/);
    expect(parseError(handBuilt('[1,2]', [])).message).toMatch(/must be a JSON object/);
  });

  it('an unknown dtype', () => {
    const error = parseError(handBuilt('{"t":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}', f32Bytes([1])));
    expect(error.message).toMatch(/tensor "t": unknown dtype "F12"/);
    expect(error.tensor).toBe('t');
  });

  it('offsets that do not match shape × dtype', () => {
    const error = parseError(handBuilt('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32Bytes([1, 2])));
    expect(error.message).toMatch(/tensor "t": F32 \[3\] needs 12 bytes but data_offsets \[0, 8\] span 8/);
  });

  it('offsets out of range (past the data section): truncated', () => {
    const error = parseError(handBuilt(ok, f32Bytes([1])));
    expect(error.message).toMatch(/tensor "t" needs data bytes \[0, 8\) but the data section has only 4 bytes; the file is truncated/);
    expect(error.tensor).toBe('t');
  });

  it('overlapping tensors', () => {
    const header =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(parseError(handBuilt(header, f32Bytes([1, 2, 3]))).message).toMatch(/tensor "b" data_offsets \[4, 12\] overlap/);
  });

  it('a gap between tensors, and bytes no tensor covers', () => {
    const gap = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(parseError(handBuilt(gap, f32Bytes([1, 2]))).message).toMatch(/tensor "a" starts at 4 .* gap/);
    expect(parseError(handBuilt(ok, f32Bytes([1, 2, 3]))).message).toMatch(/cover 8 bytes but the data section holds 12/);
  });

  it('a tensor defined twice', () => {
    const header =
      '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const error = parseError(handBuilt(header, f32Bytes([1, 2])));
    expect(error.message).toMatch(/tensor "t" is defined twice/);
    expect(error.tensor).toBe('t');
  });

  it('metadata that is not strings, and a negative or fractional shape', () => {
    expect(parseError(handBuilt('{"__metadata__":{"n":3}}', [])).message).toMatch(/__metadata__ value "n" must be a string/);
    const bad = '{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}';
    expect(parseError(handBuilt(bad, f32Bytes([1]))).message).toMatch(/tensor "t": shape must be a list of non-negative integers/);
  });

  it('a file cut short on disk names the tensor that no longer fits', async () => {
    const path = join(dir, 'cut.safetensors');
    const whole = serializeSafetensors({
      first: { dtype: 'F32', shape: [4], data: new Float32Array(4) },
      second: { dtype: 'F32', shape: [4], data: new Float32Array(4) },
    });
    writeFileSync(path, whole.subarray(0, whole.length - 6));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/cut\.safetensors: tensor "second" needs data bytes \[16, 32\) .* truncated/);
    writeFileSync(path, whole.subarray(0, 20));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/header length \d+ runs past the end of the file/);
    expect(readFileSync(path).length).toBe(20);
  });

  it('reading a non-float tensor as float32, or a missing tensor, names it', () => {
    const file = parseSafetensors(serializeSafetensors({ n: { dtype: 'I32', shape: [1], data: new Int32Array([1]) } }));
    expect(() => file.float32('n')).toThrow(/tensor "n" has dtype I32; only F16, BF16, F32, F64 can be read as float32/);
    expect(() => file.float32('m')).toThrow(/no tensor named "m"/);
  });
});
