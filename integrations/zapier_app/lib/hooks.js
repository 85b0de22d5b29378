'use strict';

/**
 * REST hook triggers ("instant"): Zapier subscribes its hook URL when a Zap is turned on and
 * unsubscribes it when the Zap is turned off; SkyBot Inbox POSTs each event to that URL as
 * `{"type", "timestamp", "data"}`, `data` being the same item the polling trigger answers.
 */

const { errorFor, parsedBody, zapierUrl } = require('./api');

const subscribe = (event) => async (z, bundle) => {
  const response = await z.request({
    url: zapierUrl(bundle, 'hooks'),
    method: 'POST',
    body: { target_url: bundle.targetUrl, event },
  });
  return response.data; // becomes bundle.subscribeData: {id, event, target_url, created_at}
};

// A subscription already gone (removed after a 410, or deleted in SkyBot Inbox) is unsubscribed.
const unsubscribe = async (z, bundle) => {
  const response = await z.request({
    url: zapierUrl(bundle, `hooks/${encodeURIComponent(bundle.subscribeData.id)}`),
    method: 'DELETE',
    skipThrowForStatus: true,
  });
  if (response.status >= 400 && response.status !== 404) {
    throw errorFor(z, response.status, parsedBody(response));
  }
  return {};
};

// Only the subscribed event type starts the Zap: a `ping` sent from the webhook settings does not.
const receive = (eventType) => (z, bundle) => {
  const event = bundle.cleanedRequest || {};
  if (event.type !== eventType || !event.data || typeof event.data !== 'object') {
    return [];
  }
  return [event.data];
};

/** A hook trigger for one of the `POST hooks` events (`new_lead`, `agent_executed`, `message_received`). */
const restHookTrigger = ({ key, noun, label, description, event, eventType, performList, sample, outputFields }) => ({
  key,
  noun,
  display: { label, description },
  operation: {
    type: 'hook',
    performSubscribe: subscribe(event),
    performUnsubscribe: unsubscribe,
    perform: receive(eventType),
    performList,
    sample,
    outputFields,
  },
});

module.exports = { restHookTrigger };
