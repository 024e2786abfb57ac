// Public entry of the safetensors reader/writer: the format, file I/O and 16-bit float conversions.
export {
  DTYPE_BYTES,
  FLOAT_DTYPES,
  MAX_HEADER_BYTES,
  parseSafetensors,
  parseSafetensorsHeader,
  Safetensors,
  SafetensorsError,
  serializeSafetensors,
  type SafetensorsArray,
  type SafetensorsDtype,
  type TensorEntry,
  type TensorToWrite,
} from './format.ts';
export { readSafetensorsFile, writeSafetensorsFile } from './file.ts';
export {
  bfloat16ArrayToFloat32,
  bfloat16BitsToFloat,
  float32ToBfloat16Array,
  float32ToHalfArray,
  floatToBfloat16Bits,
  floatToHalfBits,
  halfArrayToFloat32,
  halfBitsToFloat,
} from './half.ts';
