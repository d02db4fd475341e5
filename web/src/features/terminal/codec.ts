/**
 * Bytes on the `/terminal` socket. Keystrokes go out as UTF-8 bytes (a Uint8Array, which
 * socket.io sends as a binary attachment); terminal output comes in as binary (an ArrayBuffer in
 * the browser) and is handed to xterm as bytes, so xterm does the UTF-8 decoding — including a
 * multi-byte character split across two chunks, which decoding each chunk to a string would
 * garble.
 */

const encoder = new TextEncoder();

/** xterm `onData` text (what the user typed or pasted) → UTF-8 bytes. */
export function encodeInput(text: string): Uint8Array {
  return encoder.encode(text);
}

/** xterm `onBinary` data (a "binary string": one char per byte, 0–255) → those bytes. */
export function encodeBinaryString(data: string): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 1) out[i] = data.charCodeAt(i) & 0xff;
  return out;
}

const isArrayBuffer = (v: unknown): v is ArrayBuffer =>
  v instanceof ArrayBuffer || Object.prototype.toString.call(v) === "[object ArrayBuffer]";

/**
 * A `data` payload from the server → bytes for xterm, or null when it is not something we can
 * read. Accepts what socket.io can deliver: ArrayBuffer (browser), any typed array or DataView,
 * a Node-style `{type: "Buffer", data: [...]}`, a plain byte array, or (leniently) a string.
 */
export function decodeOutput(payload: unknown): Uint8Array | null {
  if (isArrayBuffer(payload)) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === "string") return encoder.encode(payload);
  const bytes = Array.isArray(payload)
    ? payload
    : payload && typeof payload === "object" && (payload as { type?: unknown }).type === "Buffer"
      ? (payload as { data?: unknown }).data
      : null;
  if (Array.isArray(bytes) && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(bytes as number[]);
  }
  return null;
}
