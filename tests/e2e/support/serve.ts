// Starts the real `effects-studio serve` on a free port and a temp data folder, as a user would, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../bin/effects-studio.js', import.meta.url));

/** The `listening` line `effects-studio serve` prints once it accepts connections. */
export interface ListeningLine {
  event: 'listening';
  url: string;
  port: number;
  token: string;
}

/** A running `effects-studio serve`. */
export interface ServedStudio extends ListeningLine {
  /** Everything the server wrote to stderr so far (its log), one entry per line. */
  readonly stderr: readonly string[];
  /** Stops the server (SIGTERM: a clean shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL: a crash or power loss, jobs left running) and waits for it to exit. */
  kill(): Promise<void>;
}

/** Spawns `node bin/effects-studio.js serve --port 0 --data-dir <dataDir>` and waits for its listening line. */
export async function serveStudio(dataDir: string): Promise<ServedStudio> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let isStopping = false;
  // A server that dies under a test fails it with 'connection refused'; its log says why, so show it.
  child.once('exit', (code, signal) => {
    if (!isStopping) process.stderr.write(`effects-studio serve exited unexpectedly (${signal ?? code}); its log:\n${stderr.join('\n')}\n`);
  });

  const listening = await new Promise<ListeningLine>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Partial<ListeningLine>;
        if (parsed.event === 'listening') resolve(parsed as ListeningLine);
      } catch {
        // Only the listening line is JSON; anything else on stdout is not ours to parse.
      }
    });
    void exited.then((code) => reject(new Error(`effects-studio serve exited (${code}) before listening:\n${stderr.join('\n')}`)));
  });

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    isStopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { ...listening, stderr, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
