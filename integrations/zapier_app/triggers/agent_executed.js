'use strict';

const { zapierUrl } = require('../lib/api');
const { EXECUTION_OUTPUT_FIELDS, EXECUTION_SAMPLE } = require('../lib/items');

/** The account's newest finished AI agent runs, newest first by start time, at most 100. */
const listExecutions = async (z, bundle) => {
  const response = await z.request({ url: zapierUrl(bundle, 'triggers/agent-executed'), method: 'GET' });
  return response.data;
};

module.exports = {
  key: 'agent_executed',
  noun: 'Agent Run',
  display: {
    label: 'AI Agent Run Finished',
    description:
      'Triggers when one of your AI agents finishes a run, succeeded or failed (checked every few minutes).',
  },
  operation: {
    type: 'polling',
    perform: listExecutions,
    sample: EXECUTION_SAMPLE,
    outputFields: EXECUTION_OUTPUT_FIELDS,
  },
};
