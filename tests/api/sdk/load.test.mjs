// Load: 64 concurrent streaming clients, 300 requests, every fifth client hangs up mid-stream.
// Afterwards the server is alive, every request that was not cancelled got a complete, well-formed
// stream, and /metrics shows no KV block still in use.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readSse, requireShared, startServer, STORIES } from './lib/server.mjs';

const TOTAL = 300;
const CONCURRENCY = 64;

function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

test('64 concurrent streams, 300 requests, 20% disconnect mid-stream', { timeout: 600000 }, async (t) => {
  if (!requireShared(t)) return;
  const srv = await startServer(['--model', STORIES, '--parallel-limit', '64', '--max-queue', '512', '--threads',
    '2', '--kv-blocks', '512']);
  const prompts = ['Once upon a time', 'The little dog', 'Lily and Tom', 'One day', 'Mom said', 'The sun was'];
  let next = 0;
  const results = { completed: 0, cancelled: 0, failures: [] };

  async function one(i) {
    const abort = i % 5 === 4;  // 20% hang up
    const ctrl = new AbortController();
    const body = { model: 'stories260K', messages: [{ role: 'user', content: prompts[i % prompts.length] }],
      max_tokens: 20 + (i * 7) % 40, temperature: 0.8, seed: i, stream: true, stream_options: { include_usage: true } };
    const r = await fetch(`${srv.base}/v1/chat/completions`, { method: 'POST', signal: ctrl.signal,
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 200) {
      results.failures.push(`request ${i}: status ${r.status} ${await r.text()}`);
      return;
    }
    if (abort) {
      const reader = r.body.getReader();
      await reader.read();  // the first chunk has arrived: the request is running
      await reader.read();
      ctrl.abort();
      results.cancelled++;
      return;
    }
    const { events, done } = await readSse(r);
    const ok = done && events.length >= 3 && events.every((e) => e.object === 'chat.completion.chunk' && e.id === events[0].id);
    const finish = events.flatMap((e) => e.choices).find((c) => c.finish_reason)?.finish_reason;
    const usage = events.at(-1).usage;
    if (!ok || !['stop', 'length'].includes(finish) || !usage || usage.completion_tokens < 1) {
      results.failures.push(`request ${i}: malformed stream (${events.length} events, done ${done}, finish ${finish})`);
      return;
    }
    results.completed++;
  }

  const workers = [];
  for (let w = 0; w < CONCURRENCY; w++) {
    workers.push((async () => {
      while (next < TOTAL) {
        const i = next++;
        try {
          await one(i);
        } catch (e) {
          if (e.name !== 'AbortError') results.failures.push(`request ${i}: ${e}`);
        }
      }
    })());
  }
  await Promise.all(workers);
  assert.deepEqual(results.failures, []);
  assert.equal(results.completed + results.cancelled, TOTAL);
  assert.equal(results.cancelled, TOTAL / 5);

  // Cancelled sequences free their blocks: nothing stays in use once the server is idle.
  let m = '';
  for (let k = 0; k < 100; k++) {
    m = await (await fetch(`${srv.base}/metrics`)).text();
    if (metric(m, 'minima_kv_blocks_used') === 0 && metric(m, 'minima_sequences_running') === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(metric(m, 'minima_kv_blocks_used'), 0, m);
  assert.equal(metric(m, 'minima_sequences_running'), 0);
  assert.equal((await fetch(`${srv.base}/health`)).status, 200);
  const { code } = await srv.stop();
  assert.equal(code, 0, srv.log().slice(-2000));
});
