'use strict';

const { restHookTrigger } = require('../lib/hooks');
const {
  EXECUTION_OUTPUT_FIELDS,
  EXECUTION_SAMPLE,
  LEAD_OUTPUT_FIELDS,
  LEAD_SAMPLE,
  MESSAGE_OUTPUT_FIELDS,
  MESSAGE_SAMPLE,
} = require('../lib/items');
const { recentInboundMessages } = require('../lib/messages');
const agentExecuted = require('./agent_executed');
const newLead = require('./new_lead');

const newLeadHook = restHookTrigger({
  key: 'new_lead_instant',
  noun: 'Lead',
  label: 'New Lead (Instant)',
  description: 'Triggers the moment a lead is created in SkyBot Inbox.',
  event: 'new_lead',
  eventType: 'lead.created',
  performList: newLead.operation.perform,
  sample: LEAD_SAMPLE,
  outputFields: LEAD_OUTPUT_FIELDS,
});

const agentExecutedHook = restHookTrigger({
  key: 'agent_executed_instant',
  noun: 'Agent Run',
  label: 'AI Agent Run Finished (Instant)',
  description: 'Triggers the moment one of your AI agents finishes a run, succeeded or failed.',
  event: 'agent_executed',
  eventType: 'agent.execution.finished',
  performList: agentExecuted.operation.perform,
  sample: EXECUTION_SAMPLE,
  outputFields: EXECUTION_OUTPUT_FIELDS,
});

const messageReceivedHook = restHookTrigger({
  key: 'message_received_instant',
  noun: 'Message',
  label: 'New Message Received (Instant)',
  description: 'Triggers the moment a customer sends a WhatsApp message to one of your numbers.',
  event: 'message_received',
  eventType: 'message.received',
  performList: recentInboundMessages,
  sample: MESSAGE_SAMPLE,
  outputFields: MESSAGE_OUTPUT_FIELDS,
});

module.exports = { newLeadHook, agentExecutedHook, messageReceivedHook };
