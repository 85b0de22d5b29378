'use strict';

const { apiUrl } = require('../lib/api');

/** Hidden: the account's WhatsApp numbers, for the "From WhatsApp Number" dropdown. */
const listChannels = async (z, bundle) => {
  const response = await z.request({
    url: apiUrl(bundle, 'channels'),
    method: 'GET',
    params: { page_size: 200 },
  });
  return response.data.results
    .filter((channel) => channel.is_active)
    .map((channel) => ({
      id: channel.id,
      name: `${channel.name} (${channel.display_phone_number})`,
      display_phone_number: channel.display_phone_number,
    }));
};

module.exports = {
  key: 'channel',
  noun: 'WhatsApp Number',
  display: {
    label: 'WhatsApp Number',
    description: 'Lists your WhatsApp numbers for dropdowns.',
    hidden: true,
  },
  operation: {
    type: 'polling',
    perform: listChannels,
    sample: { id: 2, name: 'Support (+1 650-555-0100)', display_phone_number: '+1 650-555-0100' },
    outputFields: [
      { key: 'id', label: 'Channel ID', type: 'integer' },
      { key: 'name', label: 'Name' },
    ],
  },
};
