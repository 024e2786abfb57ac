// Public entry of the teacher engine: StyleGAN2 import, weights, ONNX models, sampling, black-box ONNX generators, latents.
export {
  importTeacherFile,
  importTeacherWeights,
  TeacherImportError,
  type ImportReport,
  type WeightNaming,
} from './import.ts';
export { toNvidiaTensors, toRosinalityTensors } from './export.ts';
export {
  addMapping,
  addStyles,
  addSynthesis,
  noiseInputName,
  styleInputName,
  type MappingOptions,
  type NoiseMode,
  type SynthesisOptions,
} from './graph.ts';
export { Teacher, type ModelIO, type TeacherModel, type TeacherModelOptions } from './teacher.ts';
export {
  completeTeacher,
  estimateWAvg,
  loadTeacher,
  noiseFromSeed,
  TeacherSampler,
  type SampleBatch,
  type SamplerOptions,
} from './sampler.ts';
export {
  checkOnnxGenerator,
  matchDeclaration,
  OnnxGeneratorError,
  OnnxGeneratorSampler,
  readOnnxGeneratorSignature,
  type OnnxGeneratorCheck,
  type OnnxGeneratorSignature,
  type OnnxSampleBatch,
  type OnnxSamplerOptions,
} from './onnx-generator.ts';
export { latentFromSeed, portableLn, sampleLatents, SeededRandom, STREAM } from './rng.ts';
export {
  CONFIG_F_256,
  makeRandomTeacherWeights,
  TINY_TEACHER,
  writeRandomTeacher,
  type RandomTeacherOptions,
} from './tiny.ts';
export {
  makeConfig,
  MAPPING_LR_MUL,
  numWsFor,
  parameterCount,
  RESAMPLE_TAPS,
  styleChannels,
  styleLayersFor,
  type DenseWeights,
  type StyledLayerWeights,
  type StyleLayer,
  type StyleLayerKind,
  type TeacherConfig,
  type TeacherWeights,
} from './weights.ts';
