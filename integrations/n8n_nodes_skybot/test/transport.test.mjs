import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { execute, liveCredentials, sentRequests } from './harness.mjs';

/**
 * Spend the key's burst allowance (10 requests a second): one request after the other until the
 * API answers 429. (Requests sent all at once would not do: the API counts them in its cache with
 * a read and a write, so simultaneous ones overwrite each other's count.)
 */
async function spendBurstAllowance() {
	const { baseUrl, apiKey } = liveCredentials();
	for (let sent = 0; sent < 30; sent++) {
		const response = await fetch(`${baseUrl}/api/v1/me`, { headers: { 'X-API-Key': apiKey } });
		await response.arrayBuffer();
		if (response.status === 429) return;
	}
	assert.fail('30 requests in a row were never throttled');
}

describe('throttling', () => {
	test('a throttled request is waited out and sent again', async () => {
		// Three tries at most, in case the allowance came back between the 429 and the node's request.
		for (let attempt = 1; attempt <= 3; attempt++) {
			// given
			await spendBurstAllowance();

			// when
			sentRequests.length = 0;
			const [created] = await execute({
				resource: 'lead',
				operation: 'create',
				name: 'Patient Lead',
			});

			// then
			assert.equal(created.json.name, 'Patient Lead');
			assert.equal(sentRequests.at(-1).status, 201);
			assert.ok(sentRequests.every((request) => request.method === 'POST'));
			if (sentRequests[0].status === 429) return;
		}
		assert.fail("the node's request was never throttled: the retry went untested");
	});
});
