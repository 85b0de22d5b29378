import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { environment, execute, NodeApiError, unique } from './harness.mjs';

// A conversation whose customer wrote within the last 24 hours, so free text may be sent.
const conversationId = () => environment('SKYBOT_INBOX_CONVERSATION_ID');
const skip = process.env.SKYBOT_INBOX_CONVERSATION_ID
	? false
	: 'SKYBOT_INBOX_CONVERSATION_ID is not set: name a conversation whose customer wrote in the last 24 hours';

describe('message', () => {
	test('send a text reply and find it among the conversation messages', { skip }, async () => {
		// given
		const text = `Thanks for writing! ${unique('ref')}`;

		// when
		const [sent] = await execute({
			resource: 'message',
			operation: 'create',
			conversationId: conversationId(),
			text,
		});

		// then
		assert.equal(sent.json.text, text);
		assert.equal(sent.json.direction, 'out');
		assert.equal(sent.json.type, 'text');
		assert.equal(String(sent.json.conversation), conversationId());

		// when
		const listed = await execute({
			resource: 'message',
			operation: 'getAll',
			conversationId: conversationId(),
			returnAll: true,
		});

		// then newest first: the reply, and the customer's message before it
		assert.equal(listed[0].json.id, sent.json.id);
		assert.ok(listed.some((item) => item.json.direction === 'in'));
		assert.ok(listed.every((item) => String(item.json.conversation) === conversationId()));
	});

	test('send an approved template with its parameters', { skip }, async () => {
		const [sent] = await execute({
			resource: 'message',
			operation: 'create',
			conversationId: conversationId(),
			messageType: 'template',
			templateName: 'order_update',
			templateLanguage: 'en_US',
			templateParameters: { parameter: [{ value: 'Ada' }, { value: '#1042' }] },
		});

		assert.equal(sent.json.direction, 'out');
		assert.equal(sent.json.type, 'template');
	});

	test('get many stops at the limit', { skip }, async () => {
		const listed = await execute({
			resource: 'message',
			operation: 'getAll',
			conversationId: conversationId(),
			limit: 1,
		});

		assert.equal(listed.length, 1);
	});

	test('an empty text fails with the API message', { skip }, async () => {
		const failure = await execute({
			resource: 'message',
			operation: 'create',
			conversationId: conversationId(),
			text: '   ',
		}).catch((error) => error);

		assert.ok(failure instanceof NodeApiError, `expected a NodeApiError, got ${failure}`);
		assert.equal(failure.message, 'Invalid input.');
		assert.match(failure.description, /non_field_errors: Send either `text` or `template`\./);
	});

	test('a conversation of nobody (or of another tenant) is a 404', { skip }, async () => {
		const failure = await execute({
			resource: 'message',
			operation: 'getAll',
			conversationId: '999999999',
			returnAll: true,
		}).catch((error) => error);

		assert.ok(failure instanceof NodeApiError);
		assert.equal(failure.httpCode, '404');
		assert.equal(failure.message, 'Not found.');
	});
});
