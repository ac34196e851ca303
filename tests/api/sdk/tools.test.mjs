// Tool calling with the official OpenAI SDK against `minima serve` (stories260K, which has no chat
// template of its own: the built-in ChatML one, so Hermes-style <tool_call> blocks). tool_choice
// required / named force well-formed calls whose arguments satisfy the tool's parameters; auto
// leaves the model free (a 260K-parameter story model never starts a call by itself, so the test
// checks the shape either way; tests/runtime checks the lazy grammar engaging); streaming
// deltas reassembled by the SDK's stream helper equal the non-streamed calls; and a multi-turn
// round trip sends the assistant's tool_calls and a tool result back through the template.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';

import { storiesServer } from './lib/server.mjs';

const S = storiesServer(before, after, assert, OpenAI);

const user = (content) => [{ role: 'user', content }];
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', strict: true,
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } },
      required: ['city', 'unit'], additionalProperties: false } } },
  { type: 'function', function: { name: 'add', description: 'Add two integers',
    parameters: { type: 'object', properties: { a: { type: 'integer', minimum: -99, maximum: 99 },
      b: { type: 'integer', minimum: -99, maximum: 99 } }, required: ['a', 'b'] } } },
];

function checkCall(call) {
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === 'get_weather') {
    assert.deepEqual(Object.keys(args), ['city', 'unit']);
    assert.ok(typeof args.city === 'string' && [...args.city].length <= 12);
    assert.ok(['c', 'f'].includes(args.unit));
  } else {
    assert.equal(call.function.name, 'add');
    assert.deepEqual(Object.keys(args), ['a', 'b']);
    for (const v of [args.a, args.b]) assert.ok(Number.isInteger(v) && v >= -99 && v <= 99, String(v));
  }
  return args;
}

test('tool_choice required: one or more valid calls, finish_reason tool_calls', async (t) => {
  if (!S.srv) return t.skip();
  let calls = 0;
  for (const seed of [1, 2, 3]) {
    const r = await S.client.chat.completions.create({ model: 'stories260K', messages: user('What is the weather?'),
      tools, tool_choice: 'required', parallel_tool_calls: false, temperature: 1, seed });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.content, null);
    assert.equal(c.message.tool_calls.length, 1);
    checkCall(c.message.tool_calls[0]);
    calls += 1;
  }
  assert.equal(calls, 3);
});

test('a named tool_choice calls exactly that function', async (t) => {
  if (!S.srv) return t.skip();
  for (const seed of [4, 5]) {
    const r = await S.client.chat.completions.create({ model: 'stories260K', messages: user('Add 2 and 3'),
      tools, tool_choice: { type: 'function', function: { name: 'add' } }, parallel_tool_calls: false,
      temperature: 1, seed });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.tool_calls.length, 1);
    assert.equal(c.message.tool_calls[0].function.name, 'add');
    checkCall(c.message.tool_calls[0]);
  }
});

test('tool_choice auto and none: well-formed answers', async (t) => {
  if (!S.srv) return t.skip();
  for (const tool_choice of ['auto', 'none']) {
    const r = await S.client.chat.completions.create({ model: 'stories260K', messages: user('Tell me a story'),
      tools, tool_choice, temperature: 0.8, seed: 7, max_tokens: 60 });
    const c = r.choices[0];
    if (c.message.tool_calls) {
      assert.equal(tool_choice, 'auto');
      assert.equal(c.finish_reason, 'tool_calls');
      c.message.tool_calls.forEach(checkCall);
    } else {
      assert.equal(typeof c.message.content, 'string');
      assert.ok(['stop', 'length'].includes(c.finish_reason));
    }
  }
});

test('streamed tool calls: deltas reassembled by the SDK equal the non-streamed calls', async (t) => {
  if (!S.srv) return t.skip();
  const params = { model: 'stories260K', messages: user('Weather in Paris?'), tools, tool_choice: 'required',
    parallel_tool_calls: false, temperature: 1, seed: 9 };
  const stream = S.client.chat.completions.stream(params);
  let deltas = 0;
  stream.on('chunk', (chunk) => { if (chunk.choices[0]?.delta?.tool_calls) deltas += 1; });
  const final = await stream.finalChatCompletion();
  const sc = final.choices[0];
  assert.equal(sc.finish_reason, 'tool_calls');
  assert.ok(deltas > 2, `argument fragments: ${deltas} deltas`);
  const whole = await S.client.chat.completions.create(params);
  const wc = whole.choices[0];
  assert.equal(sc.message.tool_calls.length, wc.message.tool_calls.length);
  for (let i = 0; i < wc.message.tool_calls.length; i += 1) {
    assert.equal(sc.message.tool_calls[i].function.name, wc.message.tool_calls[i].function.name);
    assert.equal(sc.message.tool_calls[i].function.arguments, wc.message.tool_calls[i].function.arguments);
    checkCall(sc.message.tool_calls[i]);
  }
});

test('parallel calls: several calls each valid', async (t) => {
  if (!S.srv) return t.skip();
  const r = await S.client.chat.completions.create({ model: 'stories260K', messages: user('Weather and sums'),
    tools, tool_choice: 'required', temperature: 1, seed: 12, max_tokens: 400 });
  const c = r.choices[0];
  assert.ok(c.message.tool_calls.length >= 1);
  // Cut by max_tokens, the last call may be incomplete; every complete one must validate.
  const complete = c.finish_reason === 'tool_calls' ? c.message.tool_calls : c.message.tool_calls.slice(0, -1);
  complete.forEach(checkCall);
  assert.equal(new Set(c.message.tool_calls.map((x) => x.id)).size, c.message.tool_calls.length);
});

test('multi-turn round trip: tool_calls and a tool result go back through the template', async (t) => {
  if (!S.srv) return t.skip();
  const messages = user('What is the weather in Oslo?');
  const first = await S.client.chat.completions.create({ model: 'stories260K', messages, tools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false,
    temperature: 1, seed: 13 });
  const call = first.choices[0].message.tool_calls[0];
  checkCall(call);
  messages.push(first.choices[0].message);
  messages.push({ role: 'tool', tool_call_id: call.id, content: '{"temperature": 21, "unit": "c"}' });
  const second = await S.client.chat.completions.create({ model: 'stories260K', messages, tools, tool_choice: 'none',
    temperature: 0, max_tokens: 30 });
  const c = second.choices[0];
  assert.equal(typeof c.message.content, 'string');
  assert.ok(c.message.content.length > 0);
  assert.equal(c.message.tool_calls, undefined);
  // The tool result was in the prompt: more prompt tokens than the first turn's.
  assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens + 10);
});

test('bad tool requests are 400s naming the parameter', async (t) => {
  if (!S.srv) return t.skip();
  const cases = [
    [{ tools: [{ type: 'function', function: { name: 'bad name' } }] }, 'tools[0].function.name'],
    [{ tools, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice'],
    [{ tools, tool_choice: 'sometimes' }, 'tool_choice'],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object',
      properties: { x: { type: 'string', format: 'hostname' } } } } }] }, 'tools[0].function.parameters'],
    [{ tools, parallel_tool_calls: 'yes' }, 'parallel_tool_calls'],
  ];
  for (const [extra, param] of cases) {
    await assert.rejects(S.client.chat.completions.create({ model: 'stories260K', messages: user('hi'), ...extra }),
      (e) => {
        assert.equal(e.status, 400, JSON.stringify(extra));
        assert.equal(e.param, param, JSON.stringify(extra));
        return true;
      });
  }
});
