// Starts the real `minima serve` binary on a free port and stops it again. The binary and the
// shared data come from the environment the CTest registration sets (MINIMA_BIN, MINIMA_SHARED).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const MINIMA = process.env.MINIMA_BIN;
export const SHARED = process.env.MINIMA_SHARED;
export const STORIES = SHARED && path.join(SHARED, 'models', 'stories260K.gguf');

// Skips (or fails under CI=true) when ../shared is absent, like the C++ tests.
export function requireShared(t) {
  if (STORIES && existsSync(STORIES)) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${STORIES} is missing`);
  t.skip(`shared data not found at ${STORIES}`);
  return false;
}

export async function startServer(args) {
  const proc = spawn(MINIMA, ['serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/ready on http:\/\/[\d.]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      const exited = new Promise((resolve) => proc.on('exit', (code, sig) => resolve({ code, sig })));
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

// Reads a server-sent-event stream; returns the parsed data objects (and whether [DONE] came).
export async function readSse(response) {
  const text = await response.text();
  const events = [];
  let done = false;
  for (const block of text.split('\n\n')) {
    const line = block.trim();
    if (!line || line.startsWith(':')) continue;
    if (!line.startsWith('data: ')) throw new Error(`bad SSE line: ${line}`);
    const payload = line.slice(6);
    if (payload === '[DONE]') done = true;
    else events.push(JSON.parse(payload));
  }
  return { events, done };
}

// A `minima serve` on stories260K with a 1024-token context, started before and stopped (exit
// code 0 required) after the file's tests; the returned object's srv and client are set once it
// runs (both stay null when the shared data is absent and the tests skip).
export function storiesServer(before, after, assert, OpenAI) {
  const s = { srv: null, client: null };
  before(async (t) => {
    if (!requireShared(t)) return;
    s.srv = await startServer(['--model', STORIES, '--threads', '2', '--ctx', '1024']);
    s.client = new OpenAI({ baseURL: `${s.srv.base}/v1`, apiKey: 'none', maxRetries: 0 });
  });
  after(async () => {
    if (!s.srv) return;
    const { code } = await s.srv.stop();
    assert.equal(code, 0, `server exit code\n${s.srv.log()}`);
  });
  return s;
}
