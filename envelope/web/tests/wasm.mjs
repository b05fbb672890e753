// Loads the committed WebAssembly module (themes/default/static/amt/wasm/) as the
// workspace does, through its ES module glue, and opens what tests/node.rs sealed with
// lotse-envelope natively. Reads that test's fixtures as JSON on stdin.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const dir = new URL("../../../themes/default/static/amt/wasm/", import.meta.url);
const wasm = await import(new URL("lotse_envelope_web.js", dir));
wasm.initSync({ module: readFileSync(new URL("lotse_envelope_web_bg.wasm", dir)) });

const f = JSON.parse(readFileSync(0, "utf8"));
const thrown = (call) => {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof Error, "a failure is thrown as an Error");
    return error.message;
  }
  assert.fail("expected an error");
};

assert.equal(wasm.keyInfo(f.keyFile), f.publicKey);
assert.equal(thrown(() => wasm.keyInfo("%PDF-1.7")), f.text.notAKeyFile);

assert.equal(wasm.openApplication(f.keyFile, f.application), f.plaintext);
assert.equal(thrown(() => wasm.openApplication(f.otherKeyFile, f.application)), f.text.applicationWrongKey);

const content = JSON.parse(wasm.openMessage(f.keyFile, f.message));
assert.equal(content.text, f.messageText);
assert.equal(content.attachments.length, 1);
assert.equal(thrown(() => wasm.openMessage(f.otherKeyFile, f.message)), f.text.messageWrongKey);

const ciphertext = Uint8Array.from(Buffer.from(f.fileCiphertext, "base64"));
const file = wasm.openAttachment(f.message, JSON.stringify(content.attachments[0]), ciphertext);
assert.ok(file instanceof Uint8Array);
assert.equal(Buffer.from(file).toString("base64"), f.file);
ciphertext[ciphertext.length - 1] ^= 1;
assert.equal(
  thrown(() => wasm.openAttachment(f.message, JSON.stringify(content.attachments[0]), ciphertext)),
  f.text.attachmentFailed,
);
console.log("ok");
