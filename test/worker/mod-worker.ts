/** Worker on the universal entry (`mod.ts`): must load in workerd and detect the edge runtime. */
import { createCerberusClient, kmsAuth, readSecret } from "../../mod.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";
import { worker } from "./handler.ts";

export default worker({ createClient: createCerberusClient, kmsAuth, readSecret, detectRuntime });
