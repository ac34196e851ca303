// The official OpenAI SDK against `minima serve` on the real stories260K model: only the base URL
// changes. Every test asserts on real content and response shapes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { readSse, requireShared, startServer } from './lib/server.mjs';

const KEY = 'sk-test-minima';
let srv;
let client;

before(async (t) => {
  if (!requireShared(t)) return;
  srv = await startServer(['--model', process.env.MINIMA_SHARED + '/models/stories260K.gguf', '--api-key', KEY,
    '--threads', '2']);
  client = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: KEY, maxRetries: 0 });
});

after(async () => {
  if (!srv) return;
  const { code } = await srv.stop();
  assert.equal(code, 0, `server exit code\n${srv.log()}`);
});

const user = (content) => [{ role: 'user', content }];

test('models list and retrieve', async (t) => {
  if (!srv) return t.skip();
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['stories260K']);
  const m = await client.models.retrieve('stories260K');
  assert.equal(m.object, 'model');
});

test('chat completion: shape, usage, content', async (t) => {
  if (!srv) return t.skip();
  const r = await client.chat.completions.create({ model: 'stories260K', messages: user('Once upon a time'),
    max_tokens: 24, temperature: 0 });
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, 'stories260K');
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, 'assistant');
  assert.ok(c.message.content.length > 20, c.message.content);
  assert.match(c.message.content, /[a-z]+ [a-z]+/);  // words of a story
  assert.ok(['stop', 'length'].includes(c.finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 24);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
});

test('max_completion_tokens gives finish_reason length', async (t) => {
  if (!srv) return t.skip();
  const r = await client.chat.completions.create({ model: 'stories260K', messages: user('Tom and Lily'),
    max_completion_tokens: 5, temperature: 0 });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 5);
});

test('streaming with include_usage', async (t) => {
  if (!srv) return t.skip();
  const stream = await client.chat.completions.create({ model: 'stories260K', messages: user('Once upon a time'),
    max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  let role = null;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      if (ch.delta.role) role = ch.delta.role;
      if (ch.delta.content) text += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(role, 'assistant');
  assert.ok(chunks > 5);
  assert.ok(text.length > 10);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 20);
  // The same request without streaming gives the same text (greedy).
  const r = await client.chat.completions.create({ model: 'stories260K', messages: user('Once upon a time'),
    max_tokens: 20, temperature: 0 });
  assert.equal(r.choices[0].message.content, text);
});

test('n = 2 gives two different sampled choices', async (t) => {
  if (!srv) return t.skip();
  const r = await client.chat.completions.create({ model: 'stories260K', messages: user('The dog'), n: 2,
    max_tokens: 30, temperature: 1.0, seed: 7 });
  assert.equal(r.choices.length, 2);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(r.choices[0].message.content, r.choices[1].message.content);
  assert.equal(r.usage.completion_tokens, 60);
});

test('seed makes sampling reproducible', async (t) => {
  if (!srv) return t.skip();
  const req = { model: 'stories260K', messages: user('A little bird'), max_tokens: 30, temperature: 1.0 };
  const a = await client.chat.completions.create({ ...req, seed: 123 });
  const b = await client.chat.completions.create({ ...req, seed: 123 });
  const c = await client.chat.completions.create({ ...req, seed: 124 });
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  assert.notEqual(a.choices[0].message.content, c.choices[0].message.content);
});

test('stop sequences end the text before the stop string', async (t) => {
  if (!srv) return t.skip();
  const req = { model: 'stories260K', messages: user('Once upon a time'), max_tokens: 60, temperature: 0 };
  const full = (await client.chat.completions.create(req)).choices[0].message.content;
  const words = full.split(' ').filter((w) => w.length > 2);
  const stop = words[Math.min(3, words.length - 1)];
  const r = await client.chat.completions.create({ ...req, stop: [stop] });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.content, full.slice(0, full.indexOf(stop)));
});

test('logprobs with top_logprobs', async (t) => {
  if (!srv) return t.skip();
  const r = await client.chat.completions.create({ model: 'stories260K', messages: user('Once upon a time'),
    max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3 });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, 8);
  for (const tok of lp) {
    assert.equal(typeof tok.token, 'string');
    assert.ok(tok.logprob <= 0);
    assert.ok(Array.isArray(tok.bytes));
    assert.equal(tok.top_logprobs.length, 3);
    // Greedy: the chosen token is the most likely one.
    assert.equal(tok.top_logprobs[0].token, tok.token);
    assert.ok(Math.abs(tok.top_logprobs[0].logprob - tok.logprob) < 1e-5);
    assert.ok(tok.top_logprobs[0].logprob >= tok.top_logprobs[1].logprob);
  }
  assert.equal(lp.map((x) => x.token).join(''), r.choices[0].message.content);
});

test('completions endpoint', async (t) => {
  if (!srv) return t.skip();
  const r = await client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 16,
    temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.ok(r.choices[0].text.startsWith(', there was a little girl'), r.choices[0].text);
});

test('a bad API key is refused with 401', async (t) => {
  if (!srv) return t.skip();
  const bad = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: 'stories260K', messages: user('hi') }), (e) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    return true;
  });
  const r = await fetch(`${srv.base}/health`);  // public
  assert.equal(r.status, 200);
});

test('an unknown model is a 404', async (t) => {
  if (!srv) return t.skip();
  await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages: user('hi') }), (e) => {
    assert.equal(e.status, 404);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
    return true;
  });
});

test('invalid parameters are 400s naming the parameter', async (t) => {
  if (!srv) return t.skip();
  const cases = [
    [{ temperature: 3 }, 'temperature'],
    [{ top_p: -1 }, 'top_p'],
    [{ n: 0 }, 'n'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ presence_penalty: 9 }, 'presence_penalty'],
    [{ logit_bias: { abc: 1 } }, 'logit_bias'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ max_tokens: 100000 }, 'max_tokens'],
  ];
  for (const [extra, param] of cases) {
    await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: user('hi'), ...extra }),
      (e) => {
        assert.equal(e.status, 400, JSON.stringify(extra));
        assert.equal(e.param, param, JSON.stringify(extra));
        assert.equal(e.type, 'invalid_request_error');
        return true;
      });
  }
});

test('malformed JSON is a 400 with an OpenAI error object', async (t) => {
  if (!srv) return t.skip();
  const r = await fetch(`${srv.base}/v1/chat/completions`, { method: 'POST', body: '{"model": "stories260K", ',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  const j = await r.json();
  assert.equal(j.error.type, 'invalid_request_error');
  assert.match(j.error.message, /not valid JSON/);
});

test('raw SSE stream is well formed', async (t) => {
  if (!srv) return t.skip();
  const r = await fetch(`${srv.base}/v1/chat/completions`, { method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', messages: user('Hi'), max_tokens: 6, stream: true }) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const { events, done } = await readSse(r);
  assert.ok(done);
  assert.ok(events.every((e) => e.id === events[0].id));
  assert.equal(events.at(-1).choices[0].finish_reason, 'length');
});
