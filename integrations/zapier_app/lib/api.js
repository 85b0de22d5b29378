'use strict';

/**
 * Talking to a SkyBot Inbox server: where its API is, the API key on every request, and its error
 * answers (`{"code", "message", "details"}`) turned into errors Zapier shows as they are.
 */

const ZAPIER_PATH = '/api/v1/integrations/zapier';

/** The server's root URL as the user typed it, tidied: scheme added, trailing `/` or `/api/v1` dropped. */
const serverUrl = (bundle) => {
  let url = String((bundle.authData && bundle.authData.base_url) || '').trim();
  if (!url) {
    throw new Error('Enter your SkyBot Inbox URL, such as https://inbox.example.com.');
  }
  if (!/^https?:\/\//i.test(url)) {
    url = `https://${url}`;
  }
  return url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
};

/** A URL under `/api/v1/integrations/zapier/`, e.g. `zapierUrl(bundle, 'triggers/new-lead')`. */
const zapierUrl = (bundle, path) => `${serverUrl(bundle)}${ZAPIER_PATH}/${path}`;

/** A URL under `/api/v1/`, for the few calls outside the Zapier endpoints (dropdowns, samples). */
const apiUrl = (bundle, path) => `${serverUrl(bundle)}/api/v1/${path}`;

const addApiKey = (request, z, bundle) => {
  request.headers = request.headers || {};
  if (bundle.authData && bundle.authData.api_key) {
    request.headers['X-API-Key'] = String(bundle.authData.api_key).trim();
  }
  request.headers.Accept = 'application/json';
  return request;
};

/** `{"email": ["Enter a valid email address."]}` → `['email: Enter a valid email address.']`. */
const detailLines = (details, prefix = '') => {
  if (details === null || details === undefined) {
    return [];
  }
  if (Array.isArray(details)) {
    const texts = details.filter((item) => typeof item !== 'object').map(String);
    const label = prefix && prefix !== 'non_field_errors' ? `${prefix}: ` : '';
    const nested = details
      .map((item, index) => (item && typeof item === 'object' ? detailLines(item, `${prefix}[${index}]`) : []))
      .flat();
    return [...(texts.length ? [`${label}${texts.join(' ')}`] : []), ...nested];
  }
  if (typeof details === 'object') {
    return Object.entries(details)
      .map(([key, value]) => detailLines(value, prefix ? `${prefix}.${key}` : key))
      .flat();
  }
  return [prefix ? `${prefix}: ${details}` : String(details)];
};

/** What a person reads: the API's message, then what `details` adds (field by field). */
const errorMessage = (status, body) => {
  const message = body && typeof body.message === 'string' ? body.message : `The server answered HTTP ${status}.`;
  const extra = detailLines(body && body.details).filter((line) => !line.endsWith(message));
  return extra.length ? `${message} ${extra.join('; ')}` : message;
};

/**
 * The error to throw for an answer with status >= 400.
 * - 401: the key is wrong, expired or revoked: Zapier marks the connection as expired and asks the
 *   user to reconnect.
 * - 409 `idempotency_key_in_progress`: the same action is still running on the server; Zapier
 *   retries later and then gets its answer.
 * - anything else: the API's own message (and field details), which Zapier shows as is.
 * (429 never reaches here: the platform core throws its ThrottledError first.)
 */
const errorFor = (z, status, body) => {
  const message = errorMessage(status, body);
  const code = body && typeof body.code === 'string' ? body.code : `http_${status}`;
  if (status === 401) {
    return new z.errors.ExpiredAuthError(message);
  }
  if (status === 409 && code === 'idempotency_key_in_progress') {
    return new z.errors.ThrottledError(message, 5);
  }
  return new z.errors.Error(message, code, status);
};

// The core parses JSON answers into `data` (left undefined when the body is not JSON).
const parsedBody = (response) => (response.data === undefined ? null : response.data);

const throwApiErrors = (response, z) => {
  if (response.status < 400 || response.skipThrowForStatus) {
    return response;
  }
  throw errorFor(z, response.status, parsedBody(response));
};

module.exports = {
  addApiKey,
  apiUrl,
  errorFor,
  errorMessage,
  parsedBody,
  serverUrl,
  throwApiErrors,
  zapierUrl,
};
