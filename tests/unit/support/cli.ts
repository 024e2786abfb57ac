// Runs the real `effects-studio` command (bin/effects-studio.js) in a child process, as a user's shell would.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/effects-studio.js', import.meta.url));

/** Exit code and both output streams of one command. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `effects-studio ...args` in `cwd` with `EFFECTS_STUDIO_HOME` = `home` and answers when it exits. */
export function runCli(args: readonly string[], opts: { cwd: string; home: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, EFFECTS_STUDIO_HOME: opts.home } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stdout of a command that must succeed; throws with its stderr otherwise. */
export async function cliStdout(args: readonly string[], opts: { cwd: string; home: string }): Promise<string> {
  const r = await runCli(args, opts);
  if (r.code !== 0) throw new Error(`effects-studio ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The stderr of a command that must fail; throws when it succeeds. */
export async function cliStderr(args: readonly string[], opts: { cwd: string; home: string }): Promise<string> {
  const r = await runCli(args, opts);
  if (r.code === 0) throw new Error(`effects-studio ${args.join(' ')} succeeded`);
  return r.stderr;
}
