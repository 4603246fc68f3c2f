/**
 * Strict base64 for payloads that cross the network.
 *
 * @module
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `text` is canonical, padded standard base64 (the alphabet KMS uses). */
export function isBase64(text: string): boolean {
  return text.length > 0 && BASE64.test(text);
}

/**
 * Decodes base64 that {@link isBase64} accepted. `@smithy/util-base64` is loaded on first use:
 * only KMS auth decodes base64, so a process that authenticates another way never loads it (on
 * Node it is a CommonJS package, the only one the library has).
 */
export async function decodeBase64(text: string): Promise<Uint8Array> {
  const { fromBase64 } = await import("./base64-decoder.ts");
  return fromBase64(text);
}
