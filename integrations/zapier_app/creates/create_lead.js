'use strict';

const { zapierUrl } = require('../lib/api');
const { RUN_KEY_FIELD, idempotencyKey } = require('../lib/idempotency');
const { pick } = require('../lib/input');
const { LEAD_OUTPUT_FIELDS, LEAD_SAMPLE } = require('../lib/items');

const FIELDS = ['name', 'email', 'phone', 'company', 'source', 'status', 'score', 'metadata'];

const perform = async (z, bundle) => {
  const body = pick(bundle.inputData, FIELDS, { integers: ['score'] });
  const response = await z.request({
    url: zapierUrl(bundle, 'actions/create-lead'),
    method: 'POST',
    headers: { 'Idempotency-Key': idempotencyKey('create_lead', bundle, body) },
    body,
  });
  return response.data;
};

module.exports = {
  key: 'create_lead',
  noun: 'Lead',
  display: {
    label: 'Create Lead',
    description: 'Creates a lead in SkyBot Inbox. It appears in the Leads page and fires the New Lead triggers.',
  },
  operation: {
    perform,
    inputFields: [
      { key: 'name', label: 'Name', required: true, helpText: "The lead's full name (up to 200 characters)." },
      { key: 'email', label: 'Email', required: false, helpText: 'An email address, such as ada@example.com.' },
      {
        key: 'phone',
        label: 'Phone',
        required: false,
        helpText: 'A phone number, international format preferred (such as +447700900123). Up to 32 characters.',
      },
      { key: 'company', label: 'Company', required: false, helpText: 'The company the lead works for.' },
      {
        key: 'source',
        label: 'Source',
        required: false,
        helpText: 'Where the lead came from, such as `webinar` (up to 50 characters). Leave empty for `zapier`.',
      },
      {
        key: 'status',
        label: 'Status',
        required: false,
        choices: { new: 'New', qualified: 'Qualified', nurture: 'Nurture', won: 'Won', lost: 'Lost' },
        helpText: 'Where the lead is in your pipeline. Leave empty for New.',
      },
      {
        key: 'score',
        label: 'Score',
        type: 'integer',
        required: false,
        helpText: 'How promising the lead is, from 0 to 100. Leave empty for 0.',
      },
      {
        key: 'metadata',
        label: 'Extra Data',
        dict: true,
        required: false,
        helpText: 'Any other details to keep with the lead, as name and value pairs (such as campaign: spring).',
      },
      RUN_KEY_FIELD,
    ],
    sample: LEAD_SAMPLE,
    outputFields: LEAD_OUTPUT_FIELDS,
  },
};
