import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { execute, loadOptions, NodeApiError, unique } from './harness.mjs';

const SUPPORT_CONFIG = { greeting: 'Hello! How can we help?', language: 'en' };

describe('agent', () => {
	test('the template drop-down lists the catalogue', async () => {
		const options = await loadOptions('getAgentTemplates');

		const support = options.find((option) => option.value === 'support-agent');
		assert.ok(support, `support-agent missing from ${JSON.stringify(options)}`);
		assert.equal(support.name, 'Customer support (SUPPORT)');
		assert.ok(support.description.length > 0);
	});

	test('create from a template, get, update and find the agent in the list', async () => {
		// given
		const name = unique('Support bot');

		// when
		const [created] = await execute({
			resource: 'agent',
			operation: 'create',
			name,
			template: 'support-agent',
			config: JSON.stringify(SUPPORT_CONFIG),
			additionalFields: { description: 'Answers questions at night', replyTimeoutSeconds: 300 },
		});

		// then its deployment started (this server has no SkyBot runner, so it may have failed already)
		assert.equal(created.json.name, name);
		assert.equal(created.json.template, 'support-agent');
		assert.equal(created.json.category, 'SUPPORT');
		assert.deepEqual(created.json.config, SUPPORT_CONFIG);
		assert.equal(created.json.description, 'Answers questions at night');
		assert.equal(created.json.reply_timeout_seconds, 300);
		assert.deepEqual(created.json.channels, []);
		assert.ok(['deploying', 'failed', 'active'].includes(created.json.status), created.json.status);
		const agentId = String(created.json.id);

		// when
		const [fetched] = await execute({ resource: 'agent', operation: 'get', agentId });

		// then
		assert.equal(fetched.json.id, created.json.id);
		assert.equal(fetched.json.name, name);

		// when
		const [updated] = await execute({
			resource: 'agent',
			operation: 'update',
			agentId,
			updateFields: { name: `${name} (nights)`, description: 'Answers at night and weekends' },
		});

		// then
		assert.equal(updated.json.name, `${name} (nights)`);
		assert.equal(updated.json.description, 'Answers at night and weekends');
		assert.deepEqual(updated.json.config, SUPPORT_CONFIG);

		// when
		const listed = await execute({
			resource: 'agent',
			operation: 'getAll',
			returnAll: true,
			filters: { category: 'SUPPORT' },
		});

		// then
		const found = listed.find((item) => item.json.id === created.json.id);
		assert.ok(found, 'the new agent is listed');
		assert.equal(found.json.name, `${name} (nights)`);
		assert.ok(listed.every((item) => item.json.category === 'SUPPORT'));
	});

	test('a config that breaks the template schema fails naming the field', async () => {
		const failure = await execute({
			resource: 'agent',
			operation: 'create',
			name: unique('Broken'),
			template: 'support-agent',
			config: { greeting: '' },
		}).catch((error) => error);

		assert.ok(failure instanceof NodeApiError, `expected a NodeApiError, got ${failure}`);
		assert.equal(failure.message, "The configuration does not match the template's schema.");
		assert.equal(failure.httpCode, '400');
		assert.match(failure.description, /^config\.greeting: /m);
	});

	test('config that is not JSON is refused before anything is sent', async () => {
		const failure = await execute({
			resource: 'agent',
			operation: 'create',
			name: unique('Typo'),
			template: 'support-agent',
			config: '{greeting: hello}',
		}).catch((error) => error);

		assert.equal(failure.message, 'Config is not valid JSON');
	});

	test('activate and deactivate reach the agent and pass on why its status does not allow it', async () => {
		// given an agent whose deployment has not made it active (no SkyBot runner here)
		const [created] = await execute({
			resource: 'agent',
			operation: 'create',
			name: unique('Lifecycle'),
			template: 'support-agent',
			config: SUPPORT_CONFIG,
		});
		const agentId = String(created.json.id);
		const [current] = await execute({ resource: 'agent', operation: 'get', agentId });
		assert.notEqual(current.json.status, 'active');
		assert.notEqual(current.json.status, 'inactive');

		for (const [operation, target] of [
			['activate', 'active'],
			['deactivate', 'inactive'],
		]) {
			// when
			const failure = await execute({ resource: 'agent', operation, agentId }).catch(
				(error) => error,
			);

			// then
			assert.ok(
				failure instanceof NodeApiError,
				`${operation}: expected a NodeApiError, got ${failure}`,
			);
			assert.equal(failure.httpCode, '409');
			assert.equal(failure.message, `An agent cannot go from ${current.json.status} to ${target}.`);
			assert.match(failure.description, /code: invalid_transition/);
		}
	});

	test('an unknown agent is a 404 for every operation that names one', async () => {
		for (const operation of ['get', 'activate', 'deactivate']) {
			const failure = await execute({ resource: 'agent', operation, agentId: '999999999' }).catch(
				(error) => error,
			);
			assert.ok(failure instanceof NodeApiError, operation);
			assert.equal(failure.httpCode, '404', operation);
		}
	});
});
