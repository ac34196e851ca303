// Structured outputs with the official OpenAI SDK against `minima serve` (stories260K): the
// chat.completions.parse helper with a strict json_schema, json_object mode, streaming, several
// choices, the `grammar` extension, and 400s that name an unsupported keyword. Every output is
// checked by hand against its schema here (the property test in tests/runtime does it with an
// independent validator at scale).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { storiesServer } from './lib/server.mjs';

const S = storiesServer(before, after, assert, OpenAI);

const user = (content) => [{ role: 'user', content }];

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 16 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    mood: { enum: ['happy', 'sad', 'sleepy'] },
    friends: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 3 },
  },
  required: ['name', 'age', 'mood', 'friends'],
  additionalProperties: false,
};

function checkPerson(p) {
  assert.deepEqual(Object.keys(p), ['name', 'age', 'mood', 'friends']);
  assert.equal(typeof p.name, 'string');
  assert.ok([...p.name].length <= 16, p.name);
  assert.ok(Number.isInteger(p.age) && p.age >= 0 && p.age <= 120, String(p.age));
  assert.ok(['happy', 'sad', 'sleepy'].includes(p.mood), p.mood);
  assert.ok(Array.isArray(p.friends) && p.friends.length <= 3);
  for (const f of p.friends) assert.ok(typeof f === 'string' && [...f].length <= 8, f);
}

test('chat.completions.parse with a strict json_schema gives a parsed, valid object', async (t) => {
  if (!S.srv) return t.skip();
  for (const seed of [1, 2, 3, 4]) {
    const r = await S.client.chat.completions.parse({
      model: 'stories260K', messages: user('Tell me about Lily.'), temperature: 1, seed, max_tokens: 400,
      response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } },
    });
    const m = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'stop', m.content);
    checkPerson(m.parsed);
    assert.deepEqual(m.parsed, JSON.parse(m.content));
  }
});

test('json_object mode gives a JSON object', async (t) => {
  if (!S.srv) return t.skip();
  const r = await S.client.chat.completions.create({
    model: 'stories260K', messages: user('Once upon a time'), temperature: 0.7, seed: 5, max_tokens: 300,
    response_format: { type: 'json_object' },
  });
  const c = r.choices[0];
  if (c.finish_reason === 'stop') {
    const v = JSON.parse(c.message.content);
    assert.equal(typeof v, 'object');
    assert.ok(v !== null && !Array.isArray(v));
  } else {
    assert.match(c.message.content, /^\{/);  // cut by max_tokens: still a JSON object's prefix
  }
});

test('streaming under a schema: the deltas join into the same valid object', async (t) => {
  if (!S.srv) return t.skip();
  const params = {
    model: 'stories260K', messages: user('Who is Tom?'), temperature: 1, seed: 11, max_tokens: 400,
    response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } },
  };
  const stream = await S.client.chat.completions.create({ ...params, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'stop');
  checkPerson(JSON.parse(text));
  const whole = await S.client.chat.completions.create(params);
  assert.equal(whole.choices[0].message.content, text);
});

test('n = 3 choices are each valid', async (t) => {
  if (!S.srv) return t.skip();
  const r = await S.client.chat.completions.create({
    model: 'stories260K', messages: user('A story'), temperature: 1, seed: 21, n: 3, max_tokens: 400,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } },
  });
  assert.equal(r.choices.length, 3);
  for (const c of r.choices) {
    assert.equal(c.finish_reason, 'stop');
    checkPerson(JSON.parse(c.message.content));
  }
});

test('the grammar extension constrains completions', async (t) => {
  if (!S.srv) return t.skip();
  const r = await fetch(`${S.srv.base}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'stories260K', prompt: 'The cat was', max_tokens: 20, temperature: 1, seed: 3,
      grammar: 'root ::= " " ("happy" | "sad") "."' }),
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.match(body.choices[0].text, /^ (happy|sad)\.$/);
  assert.equal(body.choices[0].finish_reason, 'stop');
});

test('unsupported or invalid schemas are 400s naming the keyword and where it is', async (t) => {
  if (!S.srv) return t.skip();
  const cases = [
    [{ type: 'string', format: 'hostname' }, 'format', '/format'],
    [{ type: 'object', properties: { a: { type: 'array', uniqueItems: true } } }, 'uniqueItems',
      '/properties/a/uniqueItems'],
    [{ not: { type: 'string' } }, 'not', '/not'],
    [{ oneOf: [{ type: 'string' }] }, 'oneOf', '/oneOf'],
  ];
  for (const [schema, keyword, pointer] of cases) {
    await assert.rejects(S.client.chat.completions.create({
      model: 'stories260K', messages: user('hi'),
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
    }), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, 'response_format.json_schema.schema');
      assert.ok(e.message.includes(`'${keyword}'`) && e.message.includes(pointer), e.message);
      return true;
    });
  }
  await assert.rejects(S.client.chat.completions.create({
    model: 'stories260K', messages: user('hi'), response_format: { type: 'yaml' },
  }), (e) => e.status === 400 && e.param === 'response_format.type');
  await assert.rejects(S.client.chat.completions.create({
    model: 'stories260K', messages: user('hi'),
    response_format: { type: 'json_schema', json_schema: { name: 'bad name!', schema: {} } },
  }), (e) => e.status === 400 && e.param === 'response_format.json_schema.name');
});
