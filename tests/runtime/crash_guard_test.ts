import assert from "node:assert/strict";
import {
  installPostgresCrashGuard,
  isPostgresClosedSocketWrite,
} from "../../runtime/crash_guard.ts";
import { createLogger } from "../../lib/log.ts";

function nullSocketWrite(): TypeError {
  const error = new TypeError("Cannot read properties of null (reading 'write')");
  error.stack = `TypeError: Cannot read properties of null (reading 'write')
    at Immediate.nextWrite (file:///app/node_modules/.deno/postgres@3.4.9/node_modules/postgres/src/connection.js:255:22)
    at Immediate.callback (ext:deno_node/internal/timers.mjs:4:3069)`;
  return error;
}

Deno.test("the crash guard recognises only postgres.js's closed-socket write", () => {
  assert.equal(isPostgresClosedSocketWrite(nullSocketWrite()), true);
  assert.equal(
    isPostgresClosedSocketWrite(new TypeError("Cannot read properties of null (reading 'write')")),
    false,
  );
  assert.equal(isPostgresClosedSocketWrite(new Error("connect ECONNREFUSED")), false);
  assert.equal(isPostgresClosedSocketWrite("text"), false);
});

Deno.test("the crash guard prevents only that error from ending the process", () => {
  const lines: string[] = [];
  installPostgresCrashGuard(createLogger({ write: (line) => lines.push(line) }));
  const guarded = new ErrorEvent("error", { error: nullSocketWrite(), cancelable: true });
  globalThis.dispatchEvent(guarded);
  assert.equal(guarded.defaultPrevented, true);
  assert.match(lines[0], /closed connection/);
  const other = new ErrorEvent("error", { error: new RangeError("boom"), cancelable: true });
  globalThis.dispatchEvent(other);
  assert.equal(other.defaultPrevented, false);
});
