/**
 * Calls to the SkyBot Inbox REST API v1: one request helper that turns the API's error body
 * (`{"code", "message", "details"}`) into a NodeApiError, and one that walks cursor pages.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IN8nHttpFullResponse,
	INode,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, sleep } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'skyBotInboxApi';

/** The API never answers more than this many rows in one page. */
export const MAX_PAGE_SIZE = 200;

/**
 * A 429 whose `Retry-After` is at most this long is waited out and the request sent again, up to
 * `MAX_RETRIES` times: the API allows 10 requests a second per key, which a node working through
 * many items reaches. Longer waits fail the item (n8n's "Retry On Fail" setting covers those).
 */
export const MAX_RETRY_WAIT_SECONDS = 60;
export const MAX_RETRIES = 5;

type Context = IExecuteFunctions | ILoadOptionsFunctions;

interface ApiErrorBody {
	code?: unknown;
	message?: unknown;
	details?: unknown;
}

/** One line per field error: `email: Enter a valid email address.` */
export function describeDetails(details: unknown): string | undefined {
	if (!details || typeof details !== 'object') return undefined;
	const lines: string[] = [];
	const walk = (value: unknown, path: string) => {
		if (Array.isArray(value) && value.every((entry) => typeof entry !== 'object')) {
			lines.push(`${path}: ${value.join(' ')}`);
		} else if (value && typeof value === 'object') {
			for (const [key, nested] of Object.entries(value as Record<string, unknown>)) {
				walk(nested, path ? `${path}.${key}` : key);
			}
		} else if (value !== undefined && value !== null && value !== '') {
			lines.push(`${path}: ${String(value)}`);
		}
	};
	walk(details, '');
	return lines.length ? lines.join('\n') : undefined;
}

/** The NodeApiError for a response that is not a success, keeping the API's own message. */
export function apiError(node: INode, response: IN8nHttpFullResponse): NodeApiError {
	const status = response.statusCode;
	const body = (response.body ?? {}) as ApiErrorBody;
	const apiMessage = typeof body.message === 'string' && body.message ? body.message : undefined;
	const code = typeof body.code === 'string' ? body.code : undefined;
	const payload: JsonObject = {
		httpCode: String(status),
		...(code ? { code } : {}),
		...(apiMessage ? { message: apiMessage } : {}),
		...(body.details && typeof body.details === 'object'
			? { details: body.details as JsonObject }
			: {}),
	};
	const description = [describeDetails(body.details), code ? `(code: ${code})` : undefined]
		.filter(Boolean)
		.join('\n');
	return new NodeApiError(node, payload, {
		message: apiMessage ?? `SkyBot Inbox answered HTTP ${status}`,
		description: description || undefined,
		httpCode: String(status),
	});
}

/** The base URL the person entered in the credentials, without trailing slashes. */
async function baseUrl(this: Context): Promise<string> {
	const credentials = await this.getCredentials<{ baseUrl?: string }>(CREDENTIAL_NAME);
	return String(credentials.baseUrl ?? '').replace(/\/+$/, '');
}

/** Seconds to wait before sending a throttled (429) request again, or null not to retry. */
function retryAfterSeconds(response: IN8nHttpFullResponse): number | null {
	if (response.statusCode !== 429) return null;
	const header = response.headers?.['retry-after'] ?? response.headers?.['Retry-After'];
	const seconds = Number(header ?? 1);
	if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_RETRY_WAIT_SECONDS) return null;
	return Math.max(seconds, 0.1);
}

/**
 * `method` `/api/v1{path}` with the API key; answers the parsed JSON body. A short throttle (429)
 * is waited out; any other error status becomes a NodeApiError with the API's message.
 */
export async function apiRequest(
	this: Context,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
): Promise<IDataObject> {
	const options: IHttpRequestOptions = {
		method,
		url: `${await baseUrl.call(this)}/api/v1${path}`,
		headers: { Accept: 'application/json' },
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (body !== undefined) options.body = body;
	if (qs && Object.keys(qs).length) options.qs = qs;
	let response: IN8nHttpFullResponse;
	for (let attempt = 0; ; attempt++) {
		response = (await this.helpers.httpRequestWithAuthentication.call(
			this,
			CREDENTIAL_NAME,
			options,
		)) as IN8nHttpFullResponse;
		const wait = retryAfterSeconds(response);
		if (wait === null || attempt >= MAX_RETRIES) break;
		await sleep(wait * 1000);
	}
	if (response.statusCode < 200 || response.statusCode >= 300) {
		throw apiError(this.getNode(), response);
	}
	return (response.body ?? {}) as IDataObject;
}

/** The `cursor` query value of a `next` page link, or null on the last page. */
export function nextCursor(next: unknown): string | null {
	if (typeof next !== 'string' || !next) return null;
	const query = next.includes('?') ? next.slice(next.indexOf('?') + 1) : '';
	for (const pair of query.split('&')) {
		const [key, value = ''] = pair.split('=');
		if (key === 'cursor' && value) return decodeURIComponent(value.replace(/\+/g, ' '));
	}
	return null;
}

/**
 * The rows of a cursor-paginated list (`{"results", "next", "previous"}`), page after page,
 * until there are no more or `limit` rows were read (`limit` undefined: all of them).
 */
export async function apiRequestAllItems(
	this: IExecuteFunctions,
	path: string,
	qs: IDataObject,
	limit?: number,
): Promise<IDataObject[]> {
	const rows: IDataObject[] = [];
	let cursor: string | null = null;
	do {
		const wanted =
			limit === undefined ? MAX_PAGE_SIZE : Math.min(limit - rows.length, MAX_PAGE_SIZE);
		const query: IDataObject = { ...qs, page_size: wanted };
		if (cursor) query.cursor = cursor;
		const page = await apiRequest.call(this, 'GET', path, undefined, query);
		rows.push(...((page.results as IDataObject[] | undefined) ?? []));
		cursor = nextCursor(page.next);
	} while (cursor && (limit === undefined || rows.length < limit));
	return limit === undefined ? rows : rows.slice(0, limit);
}
