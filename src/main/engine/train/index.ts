// Public entry of the trainer: compile a forward graph + loss into a one-run training step, run it, checkpoint, export.
export {
  compileTrainProgram,
  LOSS_OUTPUT,
  termOutput,
  type BatchInput,
  type ProgramParam,
  type TrainProgram,
  type TrainProgramSpec,
} from './program.ts';
export { NonFiniteLossError, Trainer, type Batch, type StepResult } from './trainer.ts';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  readCheckpoint,
  writeCheckpoint,
  type TrainCheckpoint,
} from './checkpoint.ts';
