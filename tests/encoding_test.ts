import assert from "node:assert/strict";
import { base64UrlDecode, base64UrlEncode, constantTimeEqual, toHex } from "../lib/encoding.ts";

Deno.test("hex: two lower-case digits per byte", () => {
  assert.equal(toHex(new Uint8Array([0, 1, 15, 16, 171, 255])), "00010f10abff");
  assert.equal(toHex(new Uint8Array()), "");
});

Deno.test("base64url: URL-safe alphabet, no padding, round trip", () => {
  const bytes = new Uint8Array([251, 255, 191, 0, 62]);
  assert.equal(btoa(String.fromCharCode(...bytes)), "+/+/AD4=", "the case needs both symbols");
  assert.equal(base64UrlEncode(bytes), "-_-_AD4");
  assert.deepEqual(base64UrlDecode("-_-_AD4"), bytes);
  assert.deepEqual(base64UrlDecode("-_-_AD4="), bytes, "padding accepted");
  for (let length = 0; length < 40; length++) {
    const random = crypto.getRandomValues(new Uint8Array(length));
    assert.deepEqual(base64UrlDecode(base64UrlEncode(random)), random);
  }
  assert.throws(() => base64UrlDecode("a+b/"), SyntaxError);
  assert.throws(() => base64UrlDecode("not base64!"), SyntaxError);
});

Deno.test("constant-time equality of strings and bytes", () => {
  assert.equal(constantTimeEqual("secret-value", "secret-value"), true);
  assert.equal(constantTimeEqual("secret-value", "secret-valuE"), false);
  assert.equal(constantTimeEqual("secret", "secret-value"), false, "a prefix is not equal");
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
  assert.equal(constantTimeEqual("é", new Uint8Array([0xc3, 0xa9])), true, "UTF-8 bytes");
});
