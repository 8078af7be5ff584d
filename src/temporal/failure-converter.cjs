// The failure converter of client, worker and workflow bundle when the payload
// codec is on: a failure's message and stack trace travel as an encoded
// payload, so the codec encrypts them as well (Temporal's DefaultFailureConverter
// otherwise stores them as plain text in the history).
// CommonJS, because the SDK require()s the module at this path (failureConverterPath).
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
