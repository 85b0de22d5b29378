import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { execute, NodeApiError, PAGE_SIZE_CAP, sentRequests, unique } from './harness.mjs';

describe('lead', () => {
	test('create, get, update and find a lead in the list', async () => {
		// given
		const source = unique('n8n');

		// when
		const [created] = await execute({
			resource: 'lead',
			operation: 'create',
			name: 'Ada Lovelace',
			additionalFields: {
				email: 'ada@example.com',
				company: 'Analytical Engines',
				source,
				score: 80,
				metadata: '{"campaign": "spring"}',
			},
		});

		// then
		assert.equal(created.json.name, 'Ada Lovelace');
		assert.equal(created.json.email, 'ada@example.com');
		assert.equal(created.json.company, 'Analytical Engines');
		assert.equal(created.json.source, source);
		assert.equal(created.json.score, 80);
		assert.equal(created.json.status, 'new');
		assert.deepEqual(created.json.metadata, { campaign: 'spring' });
		assert.deepEqual(created.pairedItem, { item: 0 });

		// when
		const [fetched] = await execute({
			resource: 'lead',
			operation: 'get',
			leadId: String(created.json.id),
		});

		// then
		assert.deepEqual(fetched.json, created.json);

		// when
		const [updated] = await execute({
			resource: 'lead',
			operation: 'update',
			leadId: String(created.json.id),
			updateFields: { status: 'qualified', score: 95, phone: '+351 912 345 678' },
		});

		// then
		assert.equal(updated.json.id, created.json.id);
		assert.equal(updated.json.status, 'qualified');
		assert.equal(updated.json.score, 95);
		assert.equal(updated.json.phone, '+351 912 345 678');
		assert.equal(updated.json.name, 'Ada Lovelace');
		const [again] = await execute({
			resource: 'lead',
			operation: 'get',
			leadId: String(created.json.id),
		});
		assert.equal(again.json.status, 'qualified');

		// when
		const listed = await execute({
			resource: 'lead',
			operation: 'getAll',
			returnAll: true,
			filters: { source, status: 'qualified' },
		});

		// then
		assert.deepEqual(
			listed.map((item) => item.json.id),
			[created.json.id],
		);
	});

	test('get many follows the cursor across pages: return all, or stop at the limit', async () => {
		// given five leads of one source, newest last
		const source = unique('pages');
		const names = ['one', 'two', 'three', 'four', 'five'];
		const made = await execute(
			(itemIndex) => ({
				resource: 'lead',
				operation: 'create',
				name: names[itemIndex],
				additionalFields: { source },
			}),
			{ items: names.map(() => ({ json: {} })) },
		);
		assert.equal(made.length, 5);

		// when
		sentRequests.length = 0;
		const all = await execute({
			resource: 'lead',
			operation: 'getAll',
			returnAll: true,
			filters: { source },
		});

		// then every lead, newest first, read in pages of PAGE_SIZE_CAP
		assert.deepEqual(
			all.map((item) => item.json.name),
			['five', 'four', 'three', 'two', 'one'],
		);
		const pages = sentRequests.filter((request) => request.status === 200); // less throttled tries
		assert.equal(pages.length, Math.ceil(5 / PAGE_SIZE_CAP));
		assert.ok(pages.slice(1).every((request) => new URL(request.url).searchParams.has('cursor')));

		// when
		const firstThree = await execute({
			resource: 'lead',
			operation: 'getAll',
			limit: 3,
			filters: { source },
		});

		// then
		assert.deepEqual(
			firstThree.map((item) => item.json.name),
			['five', 'four', 'three'],
		);
	});

	test('an invalid input fails with the API message and the field at fault', async () => {
		// when
		const failure = await execute({
			resource: 'lead',
			operation: 'create',
			name: 'No Email',
			additionalFields: { email: 'not-an-email' },
		}).catch((error) => error);

		// then
		assert.ok(failure instanceof NodeApiError, `expected a NodeApiError, got ${failure}`);
		assert.equal(failure.message, 'Invalid input.');
		assert.equal(failure.httpCode, '400');
		assert.match(failure.description, /^email: Enter a valid email address\./m);
		assert.match(failure.description, /code: validation_error/);
		assert.equal(failure.context.itemIndex, 0);
	});

	test('a missing lead is a 404 NodeApiError', async () => {
		const failure = await execute({
			resource: 'lead',
			operation: 'get',
			leadId: '999999999',
		}).catch((error) => error);

		assert.ok(failure instanceof NodeApiError);
		assert.equal(failure.message, 'Not found.');
		assert.equal(failure.httpCode, '404');
	});

	test('with "continue on fail", a failing item becomes an error item and the others go on', async () => {
		// given
		const source = unique('continue');
		const inputs = [
			{ name: 'Good', additionalFields: { source } },
			{ name: 'Bad', additionalFields: { source, score: 500 } },
		];

		// when
		const output = await execute(
			(itemIndex) => ({ resource: 'lead', operation: 'create', ...inputs[itemIndex] }),
			{ items: inputs.map(() => ({ json: {} })), continueOnFail: true },
		);

		// then
		assert.equal(output.length, 2);
		assert.equal(output[0].json.name, 'Good');
		assert.deepEqual(output[1].pairedItem, { item: 1 });
		assert.equal(output[1].json.error, 'Invalid input.');
		assert.match(
			output[1].json.description,
			/^score: Ensure this value is less than or equal to 100\./m,
		);
		assert.equal(output[1].json.httpCode, '400');
	});

	test('update with no field chosen says so and sends nothing', async () => {
		sentRequests.length = 0;
		const failure = await execute({ resource: 'lead', operation: 'update', leadId: '1' }).catch(
			(error) => error,
		);

		assert.equal(failure.message, 'Choose at least one field to update');
		assert.equal(sentRequests.length, 0);
	});
});
