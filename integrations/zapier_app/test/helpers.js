'use strict';

/**
 * What the tests share: the app under `createAppTester`, the live server from the environment,
 * direct API calls for setting up and checking, and a local stand-in for Zapier's hook URL.
 */

// zapier-platform-core reads this when loaded: under test it prints no memory lines and adds no
// console logs to error messages.
process.env.NODE_ENV = 'test';

const crypto = require('crypto');
const http = require('http');

const zapier = require('zapier-platform-core');

const App = require('../index');

const tester = zapier.createAppTester(App);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const THROTTLE_RETRIES = 10;

/**
 * Runs one of the app's functions the way Zapier does (`createAppTester`). The server allows a key
 * 10 requests a second: on its 429 the platform core throws a ThrottledError, after which Zapier
 * tries again once the server's `Retry-After` has passed; so does this.
 */
const appTester = async (method, bundle) => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await tester(method, bundle);
    } catch (error) {
      if (error.name !== 'ThrottledError' || attempt >= THROTTLE_RETRIES) {
        throw error;
      }
      await sleep((JSON.parse(error.message).delay || 1) * 1000);
    }
  }
};

const SERVER_URL = (process.env.SKYBOT_URL || '').replace(/\/+$/, '');
const API_KEY = process.env.SKYBOT_API_KEY || '';
const LIVE_SKIP =
  SERVER_URL && API_KEY
    ? false
    : 'no live server: set SKYBOT_URL and SKYBOT_API_KEY (a key with the read, write and admin scopes)';

const authData = (overrides = {}) => ({ base_url: SERVER_URL, api_key: API_KEY, ...overrides });

/** Text no other run of the tests uses, for names and numbers that must be found again. */
const unique = () => `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;

/** A WhatsApp number nobody else uses: 1555 and 10 digits. */
const newNumber = () => `1555${String(Date.now() % 1e7).padStart(7, '0')}${crypto.randomInt(100, 999)}`;

/** Calls the REST API directly (not through the app): `{status, body}`. */
const api = async (method, path, body, { apiKey = API_KEY } = {}) => {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${SERVER_URL}/api/v1/${path}`, {
      method,
      headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 429 && attempt < THROTTLE_RETRIES) {
      await sleep(Number(response.headers.get('retry-after') || 1) * 1000);
      continue;
    }
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
};

/** What Zapier shows for an error thrown by the app: `z.errors.Error` carries JSON in `message`. */
const shown = (error) => {
  try {
    return JSON.parse(error.message);
  } catch (err) {
    return { message: error.message };
  }
};

/**
 * Zapier's hook URL, played by a tiny HTTP server on 127.0.0.1: it records every POST and answers
 * 200 (or what `answer` says), like hooks.zapier.com does.
 */
class HookReceiver {
  constructor() {
    this.received = [];
    this.answer = 200;
    this.waiters = [];
    this.server = http.createServer((request, response) => {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body = null;
        try {
          body = JSON.parse(raw);
        } catch (err) {
          body = null;
        }
        this.received.push({ path: request.url, method: request.method, headers: request.headers, raw, body });
        response.writeHead(this.answer, { 'Content-Type': 'application/json' });
        response.end('{"status": "success"}');
        this.waiters = this.waiters.filter((waiter) => !waiter());
      });
    });
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path) {
    return `http://127.0.0.1:${this.server.address().port}${path}`;
  }

  /** The first delivery matching `predicate`, waiting up to `timeoutMs` for it. */
  waitFor(predicate, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.received.find(predicate);
        if (found) {
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`no matching delivery within ${timeoutMs} ms; got ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      if (!check()) {
        this.waiters.push(check);
      }
    });
  }

  close() {
    return new Promise((resolve) => this.server.close(resolve));
  }
}

module.exports = {
  API_KEY,
  App,
  HookReceiver,
  LIVE_SKIP,
  SERVER_URL,
  api,
  appTester,
  authData,
  newNumber,
  shown,
  sleep,
  unique,
  zapier,
};
