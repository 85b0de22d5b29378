'use strict';

/**
 * The items triggers give a Zap (the polling endpoints' items, and the `data` of hook events): a
 * sample of each and the labels Zapier shows for their fields.
 */

const LEAD_SAMPLE = {
  id: 40,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  phone: '+447700900123',
  company: 'Analytical Engines Ltd',
  source: 'zapier',
  status: 'new',
  score: 0,
  contact: null,
  metadata: {},
  created_at: '2026-05-04T09:12:02.918000Z',
  updated_at: '2026-05-04T09:12:02.918000Z',
};

const LEAD_OUTPUT_FIELDS = [
  { key: 'id', label: 'Lead ID', type: 'integer' },
  { key: 'name', label: 'Name' },
  { key: 'email', label: 'Email' },
  { key: 'phone', label: 'Phone' },
  { key: 'company', label: 'Company' },
  { key: 'source', label: 'Source' },
  { key: 'status', label: 'Status' },
  { key: 'score', label: 'Score', type: 'integer' },
  { key: 'contact', label: 'Contact ID', type: 'integer' },
  { key: 'created_at', label: 'Created At', type: 'datetime' },
  { key: 'updated_at', label: 'Updated At', type: 'datetime' },
];

const EXECUTION_SAMPLE = {
  id: 9051,
  agent: 3,
  external_id: 'exec-7f3a',
  status: 'succeeded',
  started_at: '2026-05-04T09:10:00Z',
  finished_at: '2026-05-04T09:10:02.400000Z',
  duration_ms: 2400,
  input_summary: 'Customer asks for opening hours',
  output_summary: 'Replied with the opening hours',
  error: '',
  conversation: 77,
  message: 1204,
};

const EXECUTION_OUTPUT_FIELDS = [
  { key: 'id', label: 'Run ID', type: 'integer' },
  { key: 'agent', label: 'AI Agent ID', type: 'integer' },
  { key: 'external_id', label: 'Runner Execution ID' },
  { key: 'status', label: 'Status' },
  { key: 'started_at', label: 'Started At', type: 'datetime' },
  { key: 'finished_at', label: 'Finished At', type: 'datetime' },
  { key: 'duration_ms', label: 'Duration (ms)', type: 'integer' },
  { key: 'input_summary', label: 'Input Summary' },
  { key: 'output_summary', label: 'Output Summary' },
  { key: 'error', label: 'Error' },
  { key: 'conversation', label: 'Conversation ID', type: 'integer' },
  { key: 'message', label: 'Message ID', type: 'integer' },
];

const MESSAGE_SAMPLE = {
  id: 1005,
  conversation: 41,
  channel: 7,
  contact: { id: 12, wa_id: '16505551234', name: 'Sheena Nelson' },
  direction: 'in',
  type: 'text',
  text: 'Does it come in another color?',
  media: {},
  external_id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZBMTFCQjc5MEQxNjQ5NDE3AA==',
  status: 'received',
  error: null,
  sender_user: null,
  sender_agent: null,
  sent_at: null,
  delivered_at: null,
  read_at: null,
  failed_at: null,
  external_timestamp: '2026-05-04T09:12:01Z',
  created_at: '2026-05-04T09:12:02.900000Z',
};

const MESSAGE_OUTPUT_FIELDS = [
  { key: 'id', label: 'Message ID', type: 'integer' },
  { key: 'conversation', label: 'Conversation ID', type: 'integer' },
  { key: 'channel', label: 'WhatsApp Number (Channel) ID', type: 'integer' },
  { key: 'contact__id', label: 'Contact ID', type: 'integer' },
  { key: 'contact__wa_id', label: 'Contact WhatsApp Number' },
  { key: 'contact__name', label: 'Contact Name' },
  { key: 'direction', label: 'Direction' },
  { key: 'type', label: 'Type' },
  { key: 'text', label: 'Text' },
  { key: 'status', label: 'Status' },
  { key: 'error', label: 'Error' },
  { key: 'external_id', label: 'WhatsApp Message ID' },
  { key: 'external_timestamp', label: 'WhatsApp Timestamp', type: 'datetime' },
  { key: 'created_at', label: 'Created At', type: 'datetime' },
];

module.exports = {
  EXECUTION_OUTPUT_FIELDS,
  EXECUTION_SAMPLE,
  LEAD_OUTPUT_FIELDS,
  LEAD_SAMPLE,
  MESSAGE_OUTPUT_FIELDS,
  MESSAGE_SAMPLE,
};
