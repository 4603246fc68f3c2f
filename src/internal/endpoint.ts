/**
 * The one endpoint policy: which URLs the library will send a request to.
 *
 * @module
 */
import { InvalidInputError, type Step } from "../errors.ts";
import { isLoopbackHost, sanitize } from "./text.ts";

/** Which hosts may be reached over plain `http:`. */
export type HttpRule = "loopback" | "any" | ((hostname: string) => boolean);

/**
 * Parses and checks an endpoint: `https:` (or `http:` where `http` allows the host), no user
 * name or password (refused without echoing them), no query or fragment. Returns the URL
 * without a trailing slash on its path.
 */
export function endpointUrl(raw: unknown, field: string, http: HttpRule, step: Step = "config"): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new InvalidInputError("is not a valid URL", { field, step });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidInputError(`${sanitize(url.protocol, 20)} is not https: or http:`, { field, step });
  }
  if (url.username || url.password) {
    throw new InvalidInputError("must not carry a user name or password", { field, step });
  }
  // The raw text, not `url.search`: an empty query ("…/?") parses to an empty string.
  if (/[?#]/.test(String(raw))) {
    throw new InvalidInputError("must not have a query or fragment", { field, step });
  }
  const allowed = http === "any" || (http === "loopback" ? isLoopbackHost(url.hostname) : http(url.hostname));
  if (url.protocol === "http:" && !allowed) {
    throw new InvalidInputError(`plain http: is not allowed for ${sanitize(url.hostname, 80)}; use https:`, {
      field,
      step,
    });
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}
