// A PyTorch twin of a benchmark running as a long-lived process, so ORT and PyTorch rounds alternate under the same load.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The Python every benchmark compares against (Debian's python3-torch). */
export const TORCH_PYTHON = '/usr/bin/python3';

/** Why no PyTorch reference could be started; goes into the benchmark JSON as `torch_note`. */
export interface TwinUnavailable {
  note: string;
}

/** A running twin (bench/torch/<script> in `--serve` mode, see bench/torch/twin_server.py). */
export class TorchTwin {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  #stderr = '';

  /** What the script reported when it was ready (torch version, parameter count, …). */
  info: Record<string, unknown> = {};

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts `bench/torch/<script> --serve …args` with `threads` intra-op threads, or says why it cannot. */
  static async start(script: string, args: readonly string[], threads: number): Promise<TorchTwin | TwinUnavailable> {
    if (spawnSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
      return { note: `${TORCH_PYTHON} cannot import torch; install Debian's CPU PyTorch with: apt-get install python3-torch` };
    }
    const path = fileURLToPath(new URL(`../../../bench/torch/${script}`, import.meta.url));
    if (!existsSync(path)) return { note: `the PyTorch script ${path} is missing (run the benchmark from a source checkout)` };
    const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
    const twin = new TorchTwin(spawn(TORCH_PYTHON, [path, '--serve', '--threads', String(threads), ...args], { env }));
    try {
      twin.info = await twin.#next();
    } catch (error) {
      return { note: error instanceof Error ? error.message : String(error) };
    }
    return twin;
  }

  /** Runs `steps` PyTorch steps and answers their times in milliseconds. */
  async run(steps: number): Promise<number[]> {
    this.#child.stdin.write(`${steps}\n`);
    const answer = await this.#next();
    if (!Array.isArray(answer['ms'])) throw new Error(`the PyTorch twin answered ${JSON.stringify(answer).slice(0, 200)}`);
    return answer['ms'] as number[];
  }

  /** Asks the twin to stop and waits for it. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin.end('quit\n');
    await exited;
  }

  async #next(): Promise<Record<string, unknown>> {
    const line = await this.#lines.next();
    if (line.done) {
      throw new Error(`the PyTorch twin stopped: ${this.#stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
    }
    return JSON.parse(line.value) as Record<string, unknown>;
  }
}

/** Times of both runtimes from alternating rounds. */
export interface AlternatedTimes {
  ort: number[];
  torch: number[];
}

/**
 * Alternates `rounds` rounds of `perRound` ORT steps (each `ortStep()` answers its milliseconds) and `perRound`
 * PyTorch steps, so that a change in machine load hits both sides alike. Each round starts with `settle` unmeasured
 * steps on each side (default 1): the first step after a switch pays for it (caches, the other runtime's threads
 * still spinning), which would favour neither side only if rounds were long. Steps of seconds need none.
 */
export async function alternateRounds(
  rounds: number,
  perRound: number,
  ortStep: () => Promise<number>,
  twin: Pick<TorchTwin, 'run'>,
  settle = 1,
): Promise<AlternatedTimes> {
  const times: AlternatedTimes = { ort: [], torch: [] };
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < settle; i++) await ortStep();
    times.ort.push(...(await timeSteps(perRound, ortStep)));
    times.torch.push(...(await twin.run(perRound + settle)).slice(settle));
  }
  return times;
}

/** Runs `steps` ORT steps one after another and answers their milliseconds (when there is no twin to alternate with). */
export async function timeSteps(steps: number, ortStep: () => Promise<number>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) times.push(await ortStep());
  return times;
}
