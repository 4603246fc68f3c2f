/** The library's version, sent in `X-Cerberus-Client` (kept equal to package.json by a test). */
export const VERSION = "0.1.0";

/** The `X-Cerberus-Client` header value. */
export const CLIENT_HEADER = `cerberus-edge/${VERSION}`;
