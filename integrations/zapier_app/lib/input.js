'use strict';

/** Turning a step's input into a request body: unmapped fields left out, numbers sent as numbers. */

const isEmpty = (value) =>
  value === undefined ||
  value === null ||
  (typeof value === 'string' && value.trim() === '') ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);

// Zapier sends integer fields as numbers; a mapped value may still arrive as "42". Anything that is
// not a whole number goes as it is, so the API names the field in its validation error.
const asInteger = (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value);

/** The non-empty fields of `inputData` among `keys`, as strings unless `integers` names them. */
const pick = (inputData, keys, { integers = [] } = {}) => {
  const body = {};
  for (const key of keys) {
    const value = inputData[key];
    if (!isEmpty(value)) {
      body[key] = integers.includes(key) ? asInteger(value) : value;
    }
  }
  return body;
};

// "+1 (650) 555-1234" → "16505551234": the API takes digits only.
const digitsOnly = (value) => (typeof value === 'string' ? value.replace(/[\s\-().+]/g, '') : value);

/** The request body: the recipient, then either `text` or `template`; the API checks the rest. */
const messageBody = (inputData) => {
  const body = pick(inputData, ['conversation', 'to', 'channel', 'text'], { integers: ['conversation', 'channel'] });
  if (body.to !== undefined) {
    body.to = digitsOnly(body.to);
  }
  const template = pick(inputData, ['template_name', 'template_language', 'template_parameters']);
  if (!isEmpty(template)) {
    body.template = {};
    if (template.template_name !== undefined) {
      body.template.name = template.template_name;
    }
    if (template.template_language !== undefined) {
      body.template.language = template.template_language;
    }
    if (template.template_parameters !== undefined) {
      body.template.parameters = [].concat(template.template_parameters).map(String);
    }
  }
  return body;
};

module.exports = { asInteger, isEmpty, messageBody, pick };
