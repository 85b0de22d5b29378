import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
	credentialType,
	execute,
	liveCredentials,
	NodeApiError,
	sentRequests,
	testCredentials,
} from './harness.mjs';

describe('credentials', () => {
	test('the credential test answers who the key is', async () => {
		// when
		sentRequests.length = 0;
		const response = await testCredentials();

		// then
		assert.equal(response.statusCode, 200);
		assert.equal(response.body.type, 'api_key');
		assert.ok(response.body.account.name);
		assert.equal(sentRequests[0].headers['X-API-Key'], liveCredentials().apiKey);
		assert.ok(sentRequests[0].url.endsWith('/api/v1/me'));
	});

	test('a base URL typed with a trailing slash works the same', async () => {
		const response = await testCredentials(
			liveCredentials({ baseUrl: `${liveCredentials().baseUrl}/` }),
		);

		assert.equal(response.statusCode, 200);
	});

	test('a wrong key fails the credential test', async () => {
		const response = await testCredentials(
			liveCredentials({ apiKey: 'sk_live_AAAAAAAAAAAA_wrong' }),
		);

		assert.equal(response.statusCode, 401);
		assert.equal(response.body.message, 'Invalid, expired or revoked API key.');
	});

	test('the node run with a revoked or wrong key fails with the API message', async () => {
		const failure = await execute(
			{ resource: 'lead', operation: 'getAll', limit: 1 },
			{ credentials: liveCredentials({ apiKey: 'sk_live_AAAAAAAAAAAA_wrong' }) },
		).catch((error) => error);

		assert.ok(failure instanceof NodeApiError, `expected a NodeApiError, got ${failure}`);
		assert.equal(failure.httpCode, '401');
		assert.equal(failure.message, 'Invalid, expired or revoked API key.');
	});

	test('the key is hidden in the editor', () => {
		const apiKey = credentialType.properties.find((property) => property.name === 'apiKey');
		assert.equal(apiKey.typeOptions.password, true);
	});
});
