'use strict';

const { apiUrl } = require('./api');

const CONVERSATIONS = 5;
const MESSAGES_PER_CONVERSATION = 20;

/**
 * Recent customer messages, shaped as `message.received` events' `data`, newest first: Zapier's
 * samples for the "New Message Received" trigger, which has no polling endpoint of its own. Reads
 * the most recently active conversations (at most six requests) and keeps their inbound messages.
 */
const recentInboundMessages = async (z, bundle) => {
  const conversations = await z.request({
    url: apiUrl(bundle, 'conversations'),
    method: 'GET',
    params: { page_size: CONVERSATIONS },
  });
  const messages = [];
  // One conversation after another: a handful of requests, well within the API's rate limits.
  for (const conversation of conversations.data.results.filter((item) => item.last_inbound_at)) {
    const page = await z.request({
      url: apiUrl(bundle, `conversations/${conversation.id}/messages`),
      method: 'GET',
      params: { page_size: MESSAGES_PER_CONVERSATION },
    });
    for (const message of page.data.results.filter((item) => item.direction === 'in')) {
      const { id, conversation: conversationId, ...rest } = message;
      messages.push({
        id,
        conversation: conversationId,
        channel: conversation.channel,
        contact: conversation.contact,
        ...rest,
      });
    }
  }
  return messages.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
};

module.exports = { recentInboundMessages };
