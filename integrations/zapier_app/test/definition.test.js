'use strict';

/** Offline: the app definition as Zapier validates it, and what the app does without a server. */

const { App, appTester, zapier } = require('./helpers');

const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { errorFor, serverUrl } = require('../lib/api');
const { canonicalJson, idempotencyKey } = require('../lib/idempotency');
const { messageBody } = require('../lib/input');

describe('the app definition', () => {
  it("passes Zapier's schema validation (what `zapier-platform validate` runs locally)", async () => {
    // given the app handler Zapier runs
    const handler = zapier.createAppHandler(App);

    // when it is asked to validate the app
    const answer = await handler({ command: 'validate' });

    // then there are no errors
    assert.deepEqual(answer.results, []);
  });

  it('has the triggers and actions the product promises', () => {
    assert.deepEqual(Object.keys(App.triggers).sort(), [
      'agent_executed',
      'agent_executed_instant',
      'channel',
      'message_received_instant',
      'new_lead',
      'new_lead_instant',
    ]);
    assert.deepEqual(Object.keys(App.creates).sort(), ['create_lead', 'send_message']);
    for (const key of ['new_lead_instant', 'agent_executed_instant', 'message_received_instant']) {
      const operation = App.triggers[key].operation;
      assert.equal(operation.type, 'hook', key);
      for (const method of ['performSubscribe', 'performUnsubscribe', 'perform', 'performList']) {
        assert.equal(typeof operation[method], 'function', `${key}.${method}`);
      }
    }
  });

  it('labels and explains every field a person fills in', () => {
    const fields = [
      ...App.authentication.fields,
      ...Object.values(App.creates).flatMap((create) => create.operation.inputFields),
    ];
    for (const field of fields) {
      assert.ok(field.label, `${field.key} has a label`);
      assert.ok(field.helpText && field.helpText.length >= 20, `${field.key} has help text`);
      assert.equal(typeof field.required, 'boolean', `${field.key} says whether it is required`);
    }
    const required = fields.filter((field) => field.required).map((field) => field.key);
    assert.deepEqual(required, ['base_url', 'api_key', 'name']);
  });

  it('gives every visible trigger and action a sample with an id and a description', () => {
    const visible = [...Object.values(App.triggers), ...Object.values(App.creates)].filter(
      (item) => !item.display.hidden,
    );
    for (const item of visible) {
      assert.ok(item.display.description.length > 20, item.key);
      assert.ok(item.operation.sample.id, item.key);
    }
  });
});

describe('the server URL', () => {
  it('accepts what people paste', () => {
    const url = (base_url) => serverUrl({ authData: { base_url } });
    assert.equal(url('https://inbox.example.com'), 'https://inbox.example.com');
    assert.equal(url(' https://inbox.example.com/ '), 'https://inbox.example.com');
    assert.equal(url('inbox.example.com'), 'https://inbox.example.com');
    assert.equal(url('https://inbox.example.com/api/v1/'), 'https://inbox.example.com');
    assert.equal(url('http://127.0.0.1:8000'), 'http://127.0.0.1:8000');
    assert.throws(() => url(''), /Enter your SkyBot Inbox URL/);
  });
});

describe('the Idempotency-Key', () => {
  const bundle = (zap, inputData = {}) => ({ meta: zap ? { zap: { id: zap } } : {}, inputData });
  const body = { name: 'Ada Lovelace', email: 'ada@example.com', metadata: { a: '1', b: '2' } };

  it("is the same when Zapier retries the step with the same input", () => {
    const first = idempotencyKey('create_lead', bundle(123), body);
    const retry = idempotencyKey('create_lead', bundle(123), {
      metadata: { b: '2', a: '1' },
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    assert.equal(first, retry);
    assert.match(first, /^zapier-[0-9a-f]{64}$/);
  });

  it('differs for another input, another Zap, another action or another run value', () => {
    const keys = new Set([
      idempotencyKey('create_lead', bundle(123), body),
      idempotencyKey('create_lead', bundle(123), { ...body, name: 'Grace Hopper' }),
      idempotencyKey('create_lead', bundle(124), body),
      idempotencyKey('create_lead', bundle(null), body),
      idempotencyKey('send_message', bundle(123), body),
      idempotencyKey('create_lead', bundle(123, { run_key: 'trigger-41' }), body),
      idempotencyKey('create_lead', bundle(123, { run_key: 'trigger-42' }), body),
    ]);
    assert.equal(keys.size, 7);
  });

  it('serialises keys in a fixed order at every level', () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: null }], a: 'x' }), '{"a":"x","b":[{"c":null,"d":1}]}');
  });
});

describe('the send-message body', () => {
  it('sends digits only, whole numbers as numbers and the template fields as one template', () => {
    assert.deepEqual(
      messageBody({
        to: '+1 (650) 555-1234',
        channel: '2',
        text: '',
        template_name: 'order_update',
        template_language: 'en_US',
        template_parameters: ['#1042', 7],
        run_key: 'ignored',
      }),
      {
        to: '16505551234',
        channel: 2,
        template: { name: 'order_update', language: 'en_US', parameters: ['#1042', '7'] },
      },
    );
    assert.deepEqual(messageBody({ conversation: 77, text: 'Thanks!' }), { conversation: 77, text: 'Thanks!' });
  });

  it('leaves checking to the API: a value that is not a number goes as it is', () => {
    assert.deepEqual(messageBody({ conversation: 'abc', text: 'Hi' }), { conversation: 'abc', text: 'Hi' });
  });
});

describe('errors Zapier shows', () => {
  it("turns a validation error into the API's message with the fields at fault", () => {
    const error = errorFor(zapier, 400, {
      code: 'validation_error',
      message: 'Invalid input.',
      details: { email: ['Enter a valid email address.'], template: { language: ['This field is required.'] } },
    });
    assert.equal(error.name, 'AppError');
    assert.deepEqual(JSON.parse(error.message), {
      message: 'Invalid input. email: Enter a valid email address.; template.language: This field is required.',
      code: 'validation_error',
      status: 400,
    });
  });

  it('does not repeat a detail that says what the message says', () => {
    const message = 'This account has several WhatsApp numbers: choose one.';
    const error = errorFor(zapier, 400, { code: 'validation_error', message, details: { channel: [message] } });
    assert.equal(JSON.parse(error.message).message, message);
    const general = errorFor(zapier, 400, {
      code: 'validation_error',
      message: 'Invalid input.',
      details: { non_field_errors: ['Give either `conversation` or `to`.'] },
    });
    assert.equal(JSON.parse(general.message).message, 'Invalid input. Give either `conversation` or `to`.');
  });

  it('asks to reconnect on 401 and retries later while the same action is still running', () => {
    const expired = errorFor(zapier, 401, { code: 'authentication_failed', message: 'Invalid API key.', details: {} });
    assert.equal(expired.name, 'ExpiredAuthError');
    assert.equal(expired.message, 'Invalid API key.');
    const running = errorFor(zapier, 409, {
      code: 'idempotency_key_in_progress',
      message: 'A request with this Idempotency-Key is still being processed.',
      details: {},
    });
    assert.equal(running.name, 'ThrottledError');
    assert.equal(JSON.parse(running.message).delay, 5);
  });

  it('says what happened when the answer is not the API shape', () => {
    const error = errorFor(zapier, 502, null);
    assert.equal(JSON.parse(error.message).message, 'The server answered HTTP 502.');
  });
});

describe('instant triggers receiving an event', () => {
  it("starts the Zap with the event's data", async () => {
    const data = { id: 41, name: 'Ada Lovelace' };
    const results = await appTester(App.triggers.new_lead_instant.operation.perform, {
      cleanedRequest: { type: 'lead.created', timestamp: '2026-05-04T09:12:02.918000Z', data },
    });
    assert.deepEqual(results, [data]);
  });

  it('ignores another event type, such as a test ping', async () => {
    const results = await appTester(App.triggers.new_lead_instant.operation.perform, {
      cleanedRequest: { type: 'ping', timestamp: '2026-05-04T09:12:02.918000Z', data: { endpoint: 3 } },
    });
    assert.deepEqual(results, []);
  });
});
