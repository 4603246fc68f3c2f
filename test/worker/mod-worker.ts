/** Worker on the universal entry (`mod.ts`): must load in workerd and detect the edge runtime. */
import { createCerberusClient, detectRuntime, kmsAuth } from "../../mod.ts";
import { worker } from "./handler.ts";

export default worker({ createClient: createCerberusClient, kmsAuth, detectRuntime });
