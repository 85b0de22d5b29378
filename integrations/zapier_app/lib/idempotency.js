'use strict';

/**
 * The `Idempotency-Key` an action sends, so that a retried step creates nothing new.
 *
 * Zapier gives an action no id of the run it belongs to, and when it retries a step (an automatic
 * replay after an error or a timeout, or a person replaying a run) it sends the same input again.
 * So the key is derived from what stays the same across those retries: the action, the Zap's id and
 * the request body built from the step's input, plus the optional "Unique run value" field. The
 * server keeps a key for 24 hours and answers a retry with the first result.
 *
 * The cost of that choice: within 24 hours, a Zap that asks for exactly the same lead or message
 * twice gets it once. A Zap that must repeat identical requests maps something that differs per run
 * (the trigger item's id, a timestamp) into "Unique run value".
 */

const crypto = require('crypto');

/** JSON with object keys sorted at every level, so equal values always give equal text. */
const canonicalJson = (value) => {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
};

const zapId = (bundle) => {
  const zap = bundle.meta && bundle.meta.zap;
  return zap && zap.id !== undefined && zap.id !== null ? String(zap.id) : null;
};

/** `zapier-` and 64 hex digits: within the API's 1 to 255 visible ASCII characters. */
const idempotencyKey = (action, bundle, body) => {
  const runValue = bundle.inputData && bundle.inputData.run_key;
  const material = canonicalJson({
    action,
    zap: zapId(bundle),
    run: runValue === undefined || runValue === null ? '' : String(runValue),
    body,
  });
  return `zapier-${crypto.createHash('sha256').update(material).digest('hex')}`;
};

const RUN_KEY_FIELD = {
  key: 'run_key',
  label: 'Unique Run Value',
  required: false,
  helpText:
    'Optional. A retried step never runs twice: requests from this Zap with the same input within ' +
    '24 hours are made once and answer the first result. If this Zap must repeat an identical request ' +
    "on purpose, map a value that differs on every run here (such as the trigger's ID). It is not saved.",
};

module.exports = { canonicalJson, idempotencyKey, RUN_KEY_FIELD };
