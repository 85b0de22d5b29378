'use strict';

/** The SkyBot Inbox app for Zapier: one account's leads, AI agent runs and WhatsApp messages. */

const authentication = require('./authentication');
const createLead = require('./creates/create_lead');
const sendMessage = require('./creates/send_message');
const { addApiKey, throwApiErrors } = require('./lib/api');
const agentExecuted = require('./triggers/agent_executed');
const channel = require('./triggers/channel');
const { agentExecutedHook, messageReceivedHook, newLeadHook } = require('./triggers/hooks');
const newLead = require('./triggers/new_lead');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,

  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [throwApiErrors],

  triggers: {
    [newLead.key]: newLead,
    [agentExecuted.key]: agentExecuted,
    [newLeadHook.key]: newLeadHook,
    [agentExecutedHook.key]: agentExecutedHook,
    [messageReceivedHook.key]: messageReceivedHook,
    [channel.key]: channel,
  },
  creates: {
    [createLead.key]: createLead,
    [sendMessage.key]: sendMessage,
  },
};
