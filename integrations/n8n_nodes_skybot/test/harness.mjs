/**
 * A small stand-in for what n8n gives a node at run time (`IExecuteFunctions` and
 * `ILoadOptionsFunctions`), whose HTTP helpers make real requests to a live SkyBot Inbox.
 *
 * It runs the built node (`dist/`, so run `npm run build` first) the way n8n does: parameters the
 * test does not set take the default the node's description declares, and the credential is
 * applied from the credential class's own `authenticate` block, so a wrong header name fails here.
 *
 * Environment: SKYBOT_INBOX_URL (e.g. http://127.0.0.1:8000) and SKYBOT_INBOX_API_KEY (a key with the `read`,
 * `write` and `admin` scopes); SKYBOT_INBOX_CONVERSATION_ID for the message tests.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SkyBotInbox } = require('../dist/nodes/SkyBotInbox/SkyBotInbox.node.js');
const { SkyBotInboxApi } = require('../dist/credentials/SkyBotInboxApi.credentials.js');
export const { NodeApiError, NodeOperationError } = require('n8n-workflow');

export const node = new SkyBotInbox();
export const credentialType = new SkyBotInboxApi();

/**
 * The API caps `page_size` at 200. To cross page boundaries with a handful of rows, requests the
 * stand-in sends ask for pages of at most this many rows; the server's real cursors do the rest.
 */
export const PAGE_SIZE_CAP = 2;

/** Every request the stand-in sent (and the status it got), for assertions on how the node calls the API. */
export const sentRequests = [];

export function environment(name) {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is not set: see the package README ("Tests")`);
	return value;
}

export function liveCredentials(overrides = {}) {
	return {
		baseUrl: environment('SKYBOT_INBOX_URL'),
		apiKey: environment('SKYBOT_INBOX_API_KEY'),
		...overrides,
	};
}

/** `'={{$credentials.apiKey}}'` → the value; anything more than `$credentials.<name>` is refused. */
function resolveCredentialExpression(value, credentials) {
	if (typeof value !== 'string' || !value.startsWith('=')) return value;
	return value.slice(1).replace(/\{\{\s*(.*?)\s*\}\}/g, (_match, expression) => {
		const found = /^\$credentials\??\.(\w+)$/.exec(expression);
		if (!found) throw new Error(`The stand-in cannot resolve the expression {{${expression}}}`);
		return String(credentials[found[1]] ?? '');
	});
}

function resolveAll(object, credentials) {
	return Object.fromEntries(
		Object.entries(object ?? {}).map(([key, value]) => [
			key,
			resolveCredentialExpression(value, credentials),
		]),
	);
}

function withQuery(url, qs) {
	const target = new URL(url);
	for (const [key, value] of Object.entries(qs ?? {})) {
		if (value === undefined) continue;
		let sent = value;
		if (key === 'page_size') sent = Math.min(Number(value), PAGE_SIZE_CAP);
		target.searchParams.set(key, String(sent));
	}
	return target;
}

/** `helpers.httpRequest` as n8n implements it, for the options this node uses. */
export async function httpRequest(options) {
	const url = withQuery(
		options.baseURL
			? `${options.baseURL.replace(/\/+$/, '')}/${options.url.replace(/^\/+/, '')}`
			: options.url,
		options.qs,
	);
	const headers = { ...(options.headers ?? {}) };
	let body;
	if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		headers['Content-Type'] = 'application/json';
	}
	const sent = { method: options.method ?? 'GET', url: url.toString(), headers, body };
	sentRequests.push(sent);
	const response = await fetch(url, { method: sent.method, headers, body });
	sent.status = response.status;
	const text = await response.text();
	let parsed = text;
	if (options.json || (response.headers.get('content-type') ?? '').includes('json')) {
		try {
			parsed = text ? JSON.parse(text) : '';
		} catch {
			parsed = text;
		}
	}
	if (!options.ignoreHttpStatusErrors && response.status >= 400) {
		const error = new Error(`Request failed with status code ${response.status}`);
		error.response = { status: response.status, data: parsed };
		throw error;
	}
	if (options.returnFullResponse) {
		return {
			body: parsed,
			headers: Object.fromEntries(response.headers),
			statusCode: response.status,
			statusMessage: response.statusText,
		};
	}
	return parsed;
}

function authenticated(options, credentials) {
	const auth = credentialType.authenticate;
	if (auth?.type !== 'generic') throw new Error('The stand-in applies generic credentials only');
	const properties = auth.properties ?? {};
	return {
		...options,
		headers: { ...(options.headers ?? {}), ...resolveAll(properties.headers, credentials) },
		qs: { ...(options.qs ?? {}), ...resolveAll(properties.qs, credentials) },
	};
}

/** The request n8n sends when someone presses "Test" on the credential; answers the response. */
export async function testCredentials(credentials = liveCredentials()) {
	const request = credentialType.test.request;
	return await httpRequest(
		authenticated(
			{
				method: request.method ?? 'GET',
				baseURL: resolveCredentialExpression(request.baseURL, credentials),
				url: resolveCredentialExpression(request.url, credentials),
				json: true,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			},
			credentials,
		),
		credentials,
	);
}

/** Whether a property is shown for these parameters (its `displayOptions.show`, as n8n reads it). */
function shown(property, parameters) {
	const show = property.displayOptions?.show;
	if (!show) return true;
	return Object.entries(show).every(([name, values]) => {
		const current = name in parameters ? parameters[name] : defaultOf(name, parameters);
		return values.includes(current);
	});
}

/** The default the node's description declares for a parameter shown with these parameters. */
function defaultOf(name, parameters, fallback) {
	const property = node.description.properties.find(
		(candidate) => candidate.name === name && shown(candidate, parameters),
	);
	if (property) return property.default;
	if (fallback !== undefined) return fallback;
	throw new Error(`Could not get parameter "${name}"`);
}

const nodeInstance = {
	id: 'skybot-inbox-test',
	name: 'SkyBot Inbox',
	type: 'n8n-nodes-skybot-inbox.skyBotInbox',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};

function baseContext(credentials) {
	return {
		getNode: () => ({ ...nodeInstance }),
		async getCredentials(type) {
			if (type !== credentialType.name) throw new Error(`Unknown credentials "${type}"`);
			return { ...credentials };
		},
		helpers: {
			httpRequest,
			async httpRequestWithAuthentication(type, options) {
				if (type !== credentialType.name) throw new Error(`Unknown credentials "${type}"`);
				return await httpRequest(authenticated(options, credentials));
			},
		},
	};
}

/**
 * Run the node's `execute` over `items` (one empty item by default). `parameters` is an object,
 * or a function of the item index answering one. Answers the node's first output.
 */
export async function execute(
	parameters,
	{ items = [{ json: {} }], continueOnFail = false, credentials = liveCredentials() } = {},
) {
	const parametersOf = typeof parameters === 'function' ? parameters : () => parameters;
	const context = {
		...baseContext(credentials),
		getInputData: () => items,
		continueOnFail: () => continueOnFail,
		getNodeParameter(name, itemIndex, fallback) {
			const current = parametersOf(itemIndex);
			if (name in current) return current[name];
			return defaultOf(name, current, fallback);
		},
	};
	const [output] = await node.execute.call(context);
	return output;
}

/** Run one of the node's `loadOptions` methods, as the editor does to fill a drop-down. */
export async function loadOptions(method, credentials = liveCredentials()) {
	return await node.methods.loadOptions[method].call({
		...baseContext(credentials),
		getNodeParameter: () => undefined,
		getCurrentNodeParameter: () => undefined,
		getCurrentNodeParameters: () => ({}),
	});
}

/** A string unique to this run, to find the rows a test made among everything else. */
export function unique(label) {
	return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
