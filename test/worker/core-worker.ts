/** Worker on the pure core entry (`cerberus-edge/core`, the `workerd`/`worker`/`browser` condition). */
import { createCerberusClient, kmsAuth, readSecret } from "../../src/core.ts";
import { worker } from "./handler.ts";

export default worker({ createClient: createCerberusClient, kmsAuth, readSecret });
