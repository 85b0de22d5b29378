'use strict';

/**
 * Against a live SkyBot Inbox (SKYBOT_URL, SKYBOT_API_KEY with the read, write and admin scopes): every
 * request the app makes is a real HTTP request to that server. `tests/packages/test_zapier_app.py`
 * starts one and runs these; by hand, point them at `make run` with a key of the demo account.
 */

const {
  App,
  HookReceiver,
  LIVE_SKIP,
  SERVER_URL,
  api,
  appTester,
  authData,
  newNumber,
  shown,
  sleep,
  unique,
} = require('./helpers');

const assert = require('node:assert/strict');
const crypto = require('crypto');
const { after, before, describe, it: nodeTest } = require('node:test');

// Without a live server each test is skipped on its own, so the runner counts every one as skipped.
const it = (name, options, fn) =>
  typeof options === 'function'
    ? nodeTest(name, { skip: LIVE_SKIP }, options)
    : nodeTest(name, { ...options, skip: LIVE_SKIP || options.skip }, fn);

const WHATSAPP_APP_SECRET = process.env.SKYBOT_WHATSAPP_APP_SECRET || '';
const WHATSAPP_PHONE_NUMBER_ID = process.env.SKYBOT_WHATSAPP_PHONE_NUMBER_ID || '';
const WHATSAPP_SKIP =
  WHATSAPP_APP_SECRET && WHATSAPP_PHONE_NUMBER_ID
    ? false
    : "set SKYBOT_WHATSAPP_APP_SECRET and SKYBOT_WHATSAPP_PHONE_NUMBER_ID (the server's WhatsApp app " +
      "secret and a number's phone_number_id) to play a customer's incoming message";

// The tenant may have several WhatsApp numbers (other suites add some): name the one to send from.
async function sendingChannel() {
  if (!WHATSAPP_PHONE_NUMBER_ID) return undefined;
  const answer = await api('GET', 'channels?page_size=100');
  assert.equal(answer.status, 200);
  const channel = answer.body.results.find((item) => item.phone_number_id === WHATSAPP_PHONE_NUMBER_ID);
  assert.ok(channel, `no channel with phone_number_id ${WHATSAPP_PHONE_NUMBER_ID}`);
  return channel.id;
}

const triggers = App.triggers;
const creates = App.creates;

const isNewestFirst = (items, field) =>
  items.every((item, index) => index === 0 || Date.parse(items[index - 1][field]) >= Date.parse(item[field]));

/** A customer's text message as Meta's webhook delivers it, signed with the app secret. */
const customerWrites = async ({ waId, name, text }) => {
  const payload = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '100000000000900',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550100001', phone_number_id: WHATSAPP_PHONE_NUMBER_ID },
              contacts: [{ profile: { name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.ZAPIER${unique()}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  const body = JSON.stringify(payload);
  const signature = crypto.createHmac('sha256', WHATSAPP_APP_SECRET).update(body).digest('hex');
  const response = await fetch(`${SERVER_URL}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${signature}` },
    body,
  });
  assert.equal(response.status, 200, await response.text());
};

describe('against a live SkyBot Inbox', () => {
  let receiver;

  before(async () => {
    receiver = await new HookReceiver().start();
  });

  after(async () => {
    await receiver.close();
  });

  describe('the connection', () => {
    it('tests the key and labels the connection with the account and key names', async () => {
      // when Zapier tests a new connection
      const answer = await appTester(App.authentication.test, { authData: authData() });

      // then it names the account, and the label comes from that answer
      assert.equal(typeof answer.id, 'number');
      assert.ok(answer.name);
      const label = await appTester(App.authentication.connectionLabel, { authData: authData(), inputData: answer });
      assert.equal(label, answer.label);
      assert.ok(label.startsWith(answer.name), label);
    });

    it("refuses a wrong key with the server's message", async () => {
      const wrongKey = 'sk_live_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
      const testing = appTester(App.authentication.test, { authData: authData({ api_key: wrongKey }) });
      await assert.rejects(testing, (error) => {
        assert.equal(error.name, 'ExpiredAuthError');
        assert.match(error.message, /Invalid, expired or revoked API key/);
        return true;
      });
    });
  });

  describe('polling triggers', () => {
    it('New Lead answers the newest leads first, each with its own id', async () => {
      // given two leads created one after the other
      const tag = unique();
      const first = await api('POST', 'leads', { name: `Poll First ${tag}` });
      const second = await api('POST', 'leads', { name: `Poll Second ${tag}` });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(second.status, 201, JSON.stringify(second.body));

      // when Zapier polls
      const leads = await appTester(triggers.new_lead.operation.perform, { authData: authData() });

      // then the newest comes first, and every item has a distinct id
      assert.ok(leads.length >= 2 && leads.length <= 100, `${leads.length} leads`);
      assert.deepEqual(
        leads.slice(0, 2).map((lead) => [lead.id, lead.name]),
        [
          [second.body.id, `Poll Second ${tag}`],
          [first.body.id, `Poll First ${tag}`],
        ],
      );
      assert.equal(new Set(leads.map((lead) => lead.id)).size, leads.length);
      assert.ok(isNewestFirst(leads, 'created_at'));
    });

    it('AI Agent Run Finished answers finished runs, newest first, each with its own id', async () => {
      const runs = await appTester(triggers.agent_executed.operation.perform, { authData: authData() });

      assert.ok(runs.length > 0 && runs.length <= 100, `${runs.length} runs (the demo data has some)`);
      assert.equal(new Set(runs.map((run) => run.id)).size, runs.length);
      assert.ok(runs.every((run) => ['succeeded', 'failed'].includes(run.status)));
      assert.ok(isNewestFirst(runs, 'started_at'));
    });

    it('the WhatsApp number dropdown lists the account\'s numbers', async () => {
      const channels = await appTester(triggers.channel.operation.perform, { authData: authData() });

      assert.ok(channels.length > 0);
      assert.ok(channels.every((channel) => Number.isInteger(channel.id) && channel.name));
    });
  });

  describe('instant triggers', () => {
    it('New Lead (Instant): a lead created through the API reaches the hook until unsubscribed', async () => {
      const operation = triggers.new_lead_instant.operation;
      const targetUrl = receiver.url(`/hooks/new-lead/${unique()}`);

      // given the Zap turned on
      const subscribeData = await appTester(operation.performSubscribe, { authData: authData(), targetUrl });
      assert.equal(subscribeData.event, 'new_lead');
      assert.equal(subscribeData.target_url, targetUrl);

      // when a lead is created through the REST API
      const created = await api('POST', 'leads', { name: `Hooked ${unique()}`, email: 'hooked@example.com' });
      assert.equal(created.status, 201, JSON.stringify(created.body));

      // then the hook receives it, signed, and the trigger gives the Zap the same item polling gives
      const delivery = await receiver.waitFor((hit) => hit.path === new URL(targetUrl).pathname);
      assert.equal(delivery.body.type, 'lead.created');
      assert.ok(delivery.headers['webhook-signature'].startsWith('v1,'));
      const items = await appTester(operation.perform, { authData: authData(), cleanedRequest: delivery.body });
      const polled = await appTester(triggers.new_lead.operation.perform, { authData: authData() });
      assert.deepEqual(items, [polled.find((lead) => lead.id === created.body.id)]);

      // and the samples come from the polling endpoint
      const samples = await appTester(operation.performList, { authData: authData() });
      assert.equal(samples[0].id, polled[0].id);

      // when the Zap is turned off, then later leads are not sent to it
      await appTester(operation.performUnsubscribe, { authData: authData(), subscribeData, targetUrl });
      const later = await api('POST', 'leads', { name: `After Unsubscribe ${unique()}` });
      assert.equal(later.status, 201);
      // (a server running Celery eagerly, as the test platform does, delivers before it answers;
      // the pause gives a server with workers the time to send what it should not)
      await sleep(500);
      const sent = receiver.received.filter((hit) => hit.path === new URL(targetUrl).pathname);
      assert.deepEqual(
        sent.map((hit) => hit.body.data.id),
        [created.body.id],
      );

      // and unsubscribing again (the subscription is already gone) still succeeds
      assert.deepEqual(await appTester(operation.performUnsubscribe, { authData: authData(), subscribeData }), {});
    });

    it('AI Agent Run Finished (Instant): subscribes, gives samples, unsubscribes', async () => {
      const operation = triggers.agent_executed_instant.operation;
      const targetUrl = receiver.url(`/hooks/agent-executed/${unique()}`);

      const subscribeData = await appTester(operation.performSubscribe, { authData: authData(), targetUrl });
      assert.equal(subscribeData.event, 'agent_executed');
      const samples = await appTester(operation.performList, { authData: authData() });
      assert.ok(samples.length > 0);
      assert.ok(samples.every((run) => ['succeeded', 'failed'].includes(run.status)));
      assert.deepEqual(await appTester(operation.performUnsubscribe, { authData: authData(), subscribeData }), {});
    });

    it('New Message Received (Instant): samples are recent customer messages with their contact', async () => {
      const samples = await appTester(triggers.message_received_instant.operation.performList, {
        authData: authData(),
      });

      assert.ok(samples.length > 0, 'the demo conversations have customer messages');
      for (const message of samples) {
        assert.equal(message.direction, 'in');
        assert.ok(Number.isInteger(message.conversation) && Number.isInteger(message.channel));
        assert.ok(message.contact.wa_id);
      }
      assert.ok(isNewestFirst(samples, 'created_at'));
      assert.equal(new Set(samples.map((message) => message.id)).size, samples.length);
    });

    it('New Message Received (Instant): a customer writing reaches the hook', { skip: WHATSAPP_SKIP }, async () => {
      const operation = triggers.message_received_instant.operation;
      const targetUrl = receiver.url(`/hooks/message-received/${unique()}`);
      const subscribeData = await appTester(operation.performSubscribe, { authData: authData(), targetUrl });
      try {
        // when a customer writes to the number
        const waId = newNumber();
        const text = `Is the lamp in stock? ${unique()}`;
        await customerWrites({ waId, name: 'Zoe Zapier', text });

        // then the Zap gets the message with its contact
        const delivery = await receiver.waitFor((hit) => hit.path === new URL(targetUrl).pathname);
        const [message] = await appTester(operation.perform, { authData: authData(), cleanedRequest: delivery.body });
        assert.equal(message.text, text);
        assert.equal(message.direction, 'in');
        assert.deepEqual([message.contact.wa_id, message.contact.name], [waId, 'Zoe Zapier']);

        // and the samples (read from the REST API) have exactly the hook's shape, newest first
        const samples = await appTester(operation.performList, { authData: authData() });
        assert.deepEqual(samples[0], message);
      } finally {
        await appTester(operation.performUnsubscribe, { authData: authData(), subscribeData });
      }
    });
  });

  describe('actions', () => {
    it('Create Lead creates a lead; the same step retried creates nothing new', async () => {
      // given a step of a Zap
      const name = `Zap Lead ${unique()}`;
      const bundle = {
        authData: authData(),
        meta: { zap: { id: 9001 } },
        inputData: {
          name,
          email: 'zap.lead@example.com',
          company: 'Analytical Engines Ltd',
          score: 20,
          metadata: { campaign: 'spring' },
        },
      };

      // when it runs, and Zapier retries it
      const lead = await appTester(creates.create_lead.operation.perform, bundle);
      const retried = await appTester(creates.create_lead.operation.perform, bundle);

      // then there is one lead, which both runs answer
      assert.equal(lead.name, name);
      assert.equal(lead.source, 'zapier');
      assert.deepEqual(lead.metadata, { campaign: 'spring' });
      assert.deepEqual(retried, lead);
      const polled = await appTester(triggers.new_lead.operation.perform, { authData: authData() });
      assert.equal(polled.filter((item) => item.name === name).length, 1);

      // and a run with another unique run value does create another
      const again = await appTester(creates.create_lead.operation.perform, {
        ...bundle,
        inputData: { ...bundle.inputData, run_key: 'second-run' },
      });
      assert.notEqual(again.id, lead.id);
    });

    it('Send WhatsApp Message sends a template to a new number; the same step retried sends nothing new', async () => {
      const to = newNumber();
      const bundle = {
        authData: authData(),
        meta: { zap: { id: 9002 } },
        inputData: {
          channel: await sendingChannel(),
          to: `+${to.slice(0, 1)} ${to.slice(1, 4)} ${to.slice(4)}`,
          template_name: 'order_update',
          template_language: 'en_US',
          template_parameters: ['#1042'],
        },
      };

      const message = await appTester(creates.send_message.operation.perform, bundle);
      const retried = await appTester(creates.send_message.operation.perform, bundle);

      assert.equal(message.direction, 'out');
      assert.equal(message.type, 'template');
      assert.equal(message.contact.wa_id, to);
      assert.equal(retried.id, message.id);
      const messages = await api('GET', `conversations/${message.conversation}/messages`);
      assert.equal(messages.status, 200);
      assert.deepEqual(
        messages.body.results.map((item) => item.id),
        [message.id],
      );
    });

    it("shows the API's validation message for a bad email, and creates nothing", async () => {
      const name = `Bad Email ${unique()}`;
      await assert.rejects(
        appTester(creates.create_lead.operation.perform, {
          authData: authData(),
          inputData: { name, email: 'not-an-email' },
        }),
        (error) => {
          assert.equal(error.name, 'AppError');
          assert.deepEqual(shown(error), {
            message: 'Invalid input. email: Enter a valid email address.',
            code: 'validation_error',
            status: 400,
          });
          return true;
        },
      );
      const polled = await appTester(triggers.new_lead.operation.perform, { authData: authData() });
      assert.equal(polled.filter((item) => item.name === name).length, 0);
    });

    it("shows the API's message when neither a conversation nor a number is given", async () => {
      await assert.rejects(
        appTester(creates.send_message.operation.perform, { authData: authData(), inputData: { text: 'Hello' } }),
        (error) => {
          assert.match(shown(error).message, /Give either `conversation` or `to`/);
          return true;
        },
      );
    });

    it("shows the API's message when free text is sent outside the customer's 24 hours", async () => {
      // given a conversation started by a template: the customer never wrote
      const started = await appTester(creates.send_message.operation.perform, {
        authData: authData(),
        inputData: {
          channel: await sendingChannel(),
          to: newNumber(),
          template_name: 'order_update',
          template_language: 'en_US',
        },
      });

      // when free text is sent into it, then the Zap shows why it was refused
      await assert.rejects(
        appTester(creates.send_message.operation.perform, {
          authData: authData(),
          inputData: { conversation: started.conversation, text: 'Any news?' },
        }),
        (error) => {
          const { message, code, status } = shown(error);
          assert.deepEqual([code, status], ['customer_window_closed', 409]);
          assert.match(message, /send an approved template instead/);
          return true;
        },
      );
    });
  });
});
