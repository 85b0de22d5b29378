'use strict';

const { zapierUrl } = require('./lib/api');

/** Calls `auth/test`: 200 with the account and a label for the connection, 401 for a bad key. */
const test = async (z, bundle) => {
  const response = await z.request({ url: zapierUrl(bundle, 'auth/test'), method: 'GET' });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'SkyBot Inbox URL',
      type: 'string',
      required: true,
      helpText: 'The address of your SkyBot Inbox server, such as `https://inbox.example.com`.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      type: 'password',
      required: true,
      helpText:
        'An API key of your SkyBot Inbox account (Settings → API keys), starting with `sk_live_`. ' +
        'Give it the `read`, `write` and `admin` scopes: `read` for the triggers, `write` for the ' +
        'actions, `admin` for instant triggers (they subscribe a hook that receives your events).',
    },
  ],
  test,
  // Zapier passes the test's answer as `bundle.inputData`: "Acme (Zapier)", the account and key names.
  connectionLabel: (z, bundle) => bundle.inputData.label || bundle.inputData.name,
};
