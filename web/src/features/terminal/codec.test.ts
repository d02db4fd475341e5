import { describe, expect, it } from "vitest";
import { decodeOutput as decodeOrNull, encodeBinaryString, encodeInput } from "./codec";

/** Decodes, failing the test on null. */
function decodeOutput(payload: unknown): Uint8Array {
  const out = decodeOrNull(payload);
  if (!out) throw new Error("decodeOutput returned null");
  return out;
}

describe("terminal codec", () => {
  it("encodes typed text as UTF-8 bytes", () => {
    expect([...encodeInput("ls\r")]).toEqual([0x6c, 0x73, 0x0d]);
    expect([...encodeInput("é€")]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect([...encodeInput("\x1b[A")]).toEqual([0x1b, 0x5b, 0x41]);
    expect(encodeInput("")).toHaveLength(0);
  });

  it("encodes xterm binary strings byte for byte (no UTF-8 expansion)", () => {
    expect([...encodeBinaryString("\x1b[M\xff\x80")]).toEqual([0x1b, 0x5b, 0x4d, 0xff, 0x80]);
  });

  it("decodes ArrayBuffer and typed-array views without copying the wrong range", () => {
    const buf = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    expect([...decodeOutput(buf)]).toEqual([1, 2, 3, 4, 5]);
    const view = new Uint8Array(buf, 1, 3);
    expect([...decodeOutput(view)]).toEqual([2, 3, 4]);
    expect([...decodeOutput(new DataView(buf, 3, 2))]).toEqual([4, 5]);
  });

  it("keeps a UTF-8 character split across chunks as raw bytes (xterm joins them)", () => {
    const euro = encodeInput("€");
    const first = decodeOutput(euro.slice(0, 2).buffer);
    const second = decodeOutput(euro.slice(2).buffer);
    expect([...first, ...second]).toEqual([...euro]);
  });

  it("accepts Node Buffer JSON, byte arrays and strings; rejects anything else", () => {
    expect([...decodeOutput({ type: "Buffer", data: [104, 105] })]).toEqual([104, 105]);
    expect([...decodeOutput([0, 255])]).toEqual([0, 255]);
    expect([...decodeOutput("ok")]).toEqual([111, 107]);
    expect(decodeOrNull([1, 256])).toBeNull();
    expect(decodeOrNull({ data: "x" })).toBeNull();
    expect(decodeOrNull(null)).toBeNull();
    expect(decodeOrNull(42)).toBeNull();
  });
});
