'use strict';

const { zapierUrl } = require('../lib/api');
const { RUN_KEY_FIELD, idempotencyKey } = require('../lib/idempotency');
const { messageBody } = require('../lib/input');
const { MESSAGE_OUTPUT_FIELDS } = require('../lib/items');

const perform = async (z, bundle) => {
  const body = messageBody(bundle.inputData);
  const response = await z.request({
    url: zapierUrl(bundle, 'actions/send-message'),
    method: 'POST',
    headers: { 'Idempotency-Key': idempotencyKey('send_message', bundle, body) },
    body,
  });
  return response.data;
};

module.exports = {
  key: 'send_message',
  noun: 'Message',
  display: {
    label: 'Send WhatsApp Message',
    description:
      'Sends a WhatsApp message from SkyBot Inbox, into a conversation or to a number. Free text only ' +
      "within 24 hours of the customer's last message; otherwise send an approved template.",
  },
  operation: {
    perform,
    inputFields: [
      {
        key: 'to',
        label: 'To (WhatsApp Number)',
        required: false,
        helpText:
          "The customer's WhatsApp number in international format, such as +1 650 555 1234. Fill this " +
          'or Conversation ID. A number never seen before gets its contact and conversation created.',
      },
      {
        key: 'conversation',
        label: 'Conversation ID',
        type: 'integer',
        required: false,
        helpText: 'An existing SkyBot Inbox conversation to reply in, instead of To.',
      },
      {
        key: 'channel',
        label: 'From WhatsApp Number',
        type: 'integer',
        required: false,
        dynamic: 'channel.id.name',
        helpText: 'With To: which of your WhatsApp numbers sends it. May be left empty when you have only one.',
      },
      {
        key: 'text',
        label: 'Message Text',
        type: 'text',
        required: false,
        helpText:
          "Up to 4096 characters. Only allowed within 24 hours of the customer's last message; " +
          'otherwise fill the template fields instead.',
      },
      {
        key: 'template_name',
        label: 'Template Name',
        required: false,
        helpText: 'An approved WhatsApp template, such as `order_update`. Use instead of Message Text.',
      },
      {
        key: 'template_language',
        label: 'Template Language',
        required: false,
        helpText: "The template's language code, such as `en_US`. Needed with Template Name.",
      },
      {
        key: 'template_parameters',
        label: 'Template Parameters',
        list: true,
        required: false,
        helpText: "The values for the template's placeholders {{1}}, {{2}}, ... in order.",
      },
      RUN_KEY_FIELD,
    ],
    sample: {
      id: 1205,
      conversation: 77,
      channel: 2,
      contact: { id: 31, wa_id: '16505551234', name: 'Ada Lovelace' },
      direction: 'out',
      type: 'template',
      text: '[template order_update]',
      media: {},
      external_id: null,
      status: 'queued',
      error: null,
      sender_user: null,
      sender_agent: null,
      sent_at: null,
      delivered_at: null,
      read_at: null,
      failed_at: null,
      external_timestamp: null,
      created_at: '2026-05-04T09:12:02.918000Z',
    },
    outputFields: MESSAGE_OUTPUT_FIELDS,
  },
};
