'use strict';

const { zapierUrl } = require('../lib/api');
const { LEAD_OUTPUT_FIELDS, LEAD_SAMPLE } = require('../lib/items');

/** The account's newest leads, newest first, at most 100, each with a stable `id`. */
const listLeads = async (z, bundle) => {
  const response = await z.request({ url: zapierUrl(bundle, 'triggers/new-lead'), method: 'GET' });
  return response.data;
};

module.exports = {
  key: 'new_lead',
  noun: 'Lead',
  display: {
    label: 'New Lead',
    description: 'Triggers when a lead is created in SkyBot Inbox (checked every few minutes).',
  },
  operation: {
    type: 'polling',
    perform: listLeads,
    sample: LEAD_SAMPLE,
    outputFields: LEAD_OUTPUT_FIELDS,
  },
};
