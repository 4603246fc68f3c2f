/**
 * The one part of `@smithy/util-base64` the library uses, in a module of its own so that
 * {@link decodeBase64} can load it on first use and a bundle carries nothing else of the package.
 *
 * @module
 */
export { fromBase64 } from "@smithy/util-base64";
