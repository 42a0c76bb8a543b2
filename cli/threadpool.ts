// naudiodon blocks one libuv thread-pool thread per open stream, and the pool (4 threads unless
// UV_THREADPOOL_SIZE says otherwise) is sized when the process first uses it — before any of our code runs,
// since module loading uses it. Input, output, monitor and the two latency probes would take all four and
// starve everything else (a probe stream then never delivers). Live mode therefore runs in a child process
// started with a larger pool.
import { spawn } from 'node:child_process';

export const LIVE_THREADPOOL_SIZE = 16;

/** Null when this process already has a sized pool; otherwise runs the same command in a child that has. */
export async function rerunWithThreadPool(): Promise<number | null> {
  if (process.env.UV_THREADPOOL_SIZE) return null;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, UV_THREADPOOL_SIZE: String(LIVE_THREADPOOL_SIZE) },
  });
  // Ctrl-C reaches the child through the terminal; the parent only waits for it.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
}
