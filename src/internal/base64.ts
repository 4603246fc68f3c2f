/**
 * Strict base64 for payloads that cross the network.
 *
 * @module
 */
import { fromBase64, toBase64 } from "@smithy/util-base64";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** True when `text` is canonical, padded standard base64 (the alphabet KMS uses). */
export function isBase64(text: string): boolean {
  return text.length > 0 && BASE64.test(text);
}

/** Decodes base64 that {@link isBase64} accepted. */
export function decodeBase64(text: string): Uint8Array {
  return fromBase64(text);
}

/** Encodes bytes as standard padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return toBase64(bytes);
}
