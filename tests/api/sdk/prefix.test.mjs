// Prefix caching: a request repeating a long prompt is served from cached KV blocks — it reports
// cached_tokens > 0, its first token comes sooner, and its greedy output is identical.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { MINIMA, readSse, startServer } from './lib/server.mjs';

async function timedStream(base, prompt) {
  const t0 = performance.now();
  const r = await fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt, max_tokens: 12, temperature: 0, stream: true,
      stream_options: { include_usage: true } }) });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const first = await reader.read();
  const ttft = performance.now() - t0;
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  const { events } = await readSse(new Response(new TextDecoder().decode(first.value) + rest));
  const text = events.flatMap((e) => e.choices).map((c) => c.text).join('');
  return { ttft, text, usage: events.at(-1).usage };
}

test('a repeated long prompt hits the prefix cache', { timeout: 600000 }, async () => {
  // A random-weight model of SmolLM2-135M's shape: big enough that prefill time is visible.
  const dir = mkdtempSync(path.join(tmpdir(), 'minima-prefix-'));
  try {
    const model = path.join(dir, 'm.gguf');
    execFileSync(MINIMA, ['init-model', '--preset', 'smollm2-135m', '--type', 'Q8_0', '--out', model]);
    const srv = await startServer(['--model', model, '--alias', 'm', '--ctx', '2048', '--threads', '2']);
    try {
      const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'saw', 'bird', 'fly', 'over', 'tree'];
      let prompt = '';
      for (let i = 0; i < 700; i++) prompt += words[(i * 7 + (i >> 3)) % words.length] + ' ';
      const first = await timedStream(srv.base, prompt + 'finally');
      const second = await timedStream(srv.base, prompt + 'finally');
      assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
      assert.ok(first.usage.prompt_tokens > 700, `prompt tokens ${first.usage.prompt_tokens}`);
      assert.ok(second.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 16,
        JSON.stringify(second.usage));
      assert.equal(second.text, first.text);
      assert.ok(second.ttft < first.ttft, `TTFT cached ${second.ttft} ms vs uncached ${first.ttft} ms`);
      console.log(`prefix cache: TTFT ${first.ttft.toFixed(0)} ms -> ${second.ttft.toFixed(0)} ms, ` +
        `${second.usage.prompt_tokens_details.cached_tokens}/${second.usage.prompt_tokens} prompt tokens cached`);
    } finally {
      const { code } = await srv.stop();
      assert.equal(code, 0, `server exit code\n${srv.log()}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
