// Sequential steps in one file: once a step fails, the following ones are skipped (they
// depend on it) instead of failing with confusing messages.
"use strict";

const { test } = require("node:test");

function sequence() {
  let failed = null;
  return (name, fn) =>
    test(name, async (t) => {
      if (failed) {
        t.skip(`étape précédente en échec : ${failed}`);
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        failed = name;
        throw e;
      }
    });
}

module.exports = { sequence };
