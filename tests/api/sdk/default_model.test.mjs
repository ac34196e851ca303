// The built-in model minima-mini (models/minima-mini.gguf, trained by minima: models/minima-mini.md)
// through `minima serve` started WITHOUT --model, with the official OpenAI SDK, and through
// `minima run`. What is checked is that it answers in its chat format — its turns end with
// <|im_end|>, so answers finish with finish_reason "stop" well before max_tokens, with no chat
// markers in the text — in English and in Chinese, not what it knows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { MINIMA, startServer } from './lib/server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MODEL = path.join(REPO, 'models', 'minima-mini.gguf');
let srv;
let client;

before(async () => {
  assert.ok(existsSync(MODEL), `${MODEL} is part of the repository`);
  srv = await startServer(['--threads', '2']);
  client = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  if (!srv) return;
  const { code } = await srv.stop();
  assert.equal(code, 0, `server exit code\n${srv.log()}`);
});

// Greedy with the repetition penalty `minima run` uses by default (1.1; `repetition_penalty` is the
// vLLM-style extension minima accepts): plain greedy decoding of an 8M-parameter model can fall into
// a loop ("a land of Egypt, and a land of Egypt, ...") and never end its turn.
const PENALTY = { repetition_penalty: 1.1 };
const ask = (content, extra = {}) => client.chat.completions.create({
  model: 'minima-mini', messages: [{ role: 'user', content }], max_tokens: 120, temperature: 0, ...PENALTY,
  ...extra });

function assertChatAnswer(r, what) {
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(c.finish_reason, 'stop', `${what}: the model should end its turn: ${JSON.stringify(c.message.content)}`);
  assert.ok(r.usage.completion_tokens < 120, what);
  assert.ok(c.message.content.trim().length > 0, `${what}: empty answer`);
  assert.doesNotMatch(c.message.content, /<\|im_(start|end)\|>|<\|endoftext\|>/, what);
}

test('serve without --model serves minima-mini', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), ['minima-mini']);
  assert.match(srv.log(), /minima-mini\.gguf/);
});

test('answers English questions in its chat format', async () => {
  for (const q of ['What does "harbor" mean?', 'What is the atomic number of gold?', 'Quote Genesis 1:1.']) {
    const r = await ask(q);
    assertChatAnswer(r, q);
    assert.match(r.choices[0].message.content, /[A-Za-z]{3,}/, q);
  }
});

test('answers Chinese questions in Chinese', async () => {
  for (const q of ['“水”是什么意思？', '请背诵《静夜思》。']) {
    const r = await ask(q);
    assertChatAnswer(r, q);
    assert.match(r.choices[0].message.content, /\p{Script=Han}/u, q);
  }
});

test('system message and a second turn', async () => {
  const r = await client.chat.completions.create({ model: 'minima-mini', max_tokens: 120, temperature: 0, ...PENALTY,
    messages: [{ role: 'system', content: 'You are minima-mini, a small helpful assistant.' },
      { role: 'user', content: 'What is the atomic number of iron?' },
      { role: 'assistant', content: 'The atomic number of iron is 26.' },
      { role: 'user', content: 'Tell me about the element iron.' }] });
  assertChatAnswer(r, 'second turn');
});

test('streaming gives the same answer as a plain request', async () => {
  const q = 'Define "river".';
  const plain = (await ask(q)).choices[0].message.content;
  const stream = await client.chat.completions.create({ model: 'minima-mini', temperature: 0, max_tokens: 120,
    ...PENALTY, messages: [{ role: 'user', content: q }], stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const ch of chunk.choices) {
      if (ch.delta.content) text += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(finish, 'stop');
  assert.equal(text, plain);
});

test('minima run without --model gives the server\'s greedy answer', async () => {
  const q = 'What is the atomic number of gold?';
  const served = (await ask(q, { repetition_penalty: 1 })).choices[0].message.content;
  const out = execFileSync(MINIMA, ['run', '--prompt', q, '--temp', '0', '--repeat-penalty', '1', '-n', '120',
    '--threads', '2'], { encoding: 'utf8' });
  assert.equal(out.trimEnd(), served.trimEnd());
});
