/**
 * The emulated KMS key material: one AES-256-GCM key per (principal, region), created lazily
 * as Cerberus does, with a key policy that lets only that principal decrypt. Ciphertext blobs
 * name their key and are authenticated (tampering, a foreign region's blob or a wrong
 * encryption context all fail to decrypt).
 *
 * @module
 */
import { utf8Bytes } from "../encoding.ts";
import type { TimeSource } from "../types.ts";
import { principalToRootArn } from "./arn.ts";
import type { CredentialRecord } from "./identity.ts";
import { partitionOf } from "./regions.ts";

/** Lifecycle state of a key, as KMS reports it. */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

/** One emulated KMS key. */
export interface KmsKey {
  /** Key id (a UUID). */
  keyId: string;
  /** Key ARN, in the Cerberus account and the key's region. */
  arn: string;
  /** The region the key lives in; it cannot be used from any other. */
  region: string;
  /** The only principal the key policy lets `kms:Decrypt`. */
  principalArn: string;
  /** The key administrator (Cerberus itself), who may encrypt and decrypt. */
  adminArn: string;
  /** Current state. */
  state: KeyState;
  /** Creation time, server ms. */
  createdAt: number;
  /** The AES-GCM key (not extractable). */
  material: CryptoKey;
}

/** Result of {@link KmsKeyStore.decrypt}. */
export type DecryptOutcome =
  | { ok: true; key: KmsKey; plaintext: Uint8Array }
  | { ok: false; reason: "invalid-ciphertext" };

/** Encryption context: string pairs bound to the ciphertext as additional authenticated data. */
export type EncryptionContext = Record<string, string>;

const BLOB_VERSION = 1;
const KEY_ID_LENGTH = 36;
const IV_LENGTH = 12;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH;

/** Every KMS key of the stack, by region. */
export class KmsKeyStore {
  readonly #byRegion = new Map<string, Map<string, KmsKey>>();
  readonly #byPrincipal = new Map<string, KmsKey>();
  readonly #now: TimeSource;
  /** The account that owns the keys (the Cerberus deployment's account). */
  readonly accountId: string;
  /** ARN of the key administrator (the Cerberus service role). */
  readonly adminArn: string;

  /** @param accountId account owning the keys; @param adminArn Cerberus's own role; @param now server time. */
  constructor(accountId: string, adminArn: string, now: TimeSource) {
    this.accountId = accountId;
    this.adminArn = adminArn;
    this.#now = now;
  }

  /** The key for (principal, region), if it was created. */
  find(principalArn: string, region: string): KmsKey | undefined {
    return this.#byPrincipal.get(`${region} ${principalArn}`);
  }

  /** The key for (principal, region), created on first use (what Cerberus's auth does). */
  async provision(principalArn: string, region: string): Promise<KmsKey> {
    const existing = this.find(principalArn, region);
    if (existing && existing.state === "Enabled") return existing;
    const keyId = crypto.randomUUID();
    const material = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const key: KmsKey = {
      keyId,
      arn: `arn:${partitionOf(region)}:kms:${region}:${this.accountId}:key/${keyId}`,
      region,
      principalArn,
      adminArn: this.adminArn,
      state: "Enabled",
      createdAt: this.#now(),
      material,
    };
    let regional = this.#byRegion.get(region);
    if (!regional) this.#byRegion.set(region, regional = new Map());
    regional.set(keyId, key);
    this.#byPrincipal.set(`${region} ${principalArn}`, key);
    return key;
  }

  /** Looks a key up in a region by key id or key ARN. */
  resolve(region: string, reference: string): KmsKey | undefined {
    const regional = this.#byRegion.get(region);
    if (!regional) return undefined;
    const id = reference.startsWith("arn:") ? reference.split("/").pop() ?? "" : reference;
    const key = regional.get(id);
    if (key && reference.startsWith("arn:") && key.arn !== reference) return undefined;
    return key;
  }

  /** Changes a key's state (to emulate disabled or pending-deletion keys). */
  setState(key: KmsKey, state: KeyState): void {
    key.state = state;
  }

  /** True when the key policy lets this caller decrypt. */
  mayDecrypt(key: KmsKey, caller: CredentialRecord): boolean {
    return policyAllows(key.principalArn, caller) || policyAllows(key.adminArn, caller);
  }

  /** True when the key policy lets this caller encrypt (only the administrator). */
  mayEncrypt(key: KmsKey, caller: CredentialRecord): boolean {
    return policyAllows(key.adminArn, caller);
  }

  /** Encrypts with AES-256-GCM; the blob names the key and binds the encryption context. */
  async encrypt(key: KmsKey, plaintext: Uint8Array, context: EncryptionContext = {}): Promise<Uint8Array> {
    const header = new Uint8Array(HEADER_LENGTH);
    header[0] = BLOB_VERSION;
    header.set(utf8Bytes(key.keyId), 1);
    const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad(header, context) },
        key.material,
        plaintext.slice(),
      ),
    );
    const blob = new Uint8Array(HEADER_LENGTH + IV_LENGTH + sealed.length);
    blob.set(header, 0);
    blob.set(iv, HEADER_LENGTH);
    blob.set(sealed, HEADER_LENGTH + IV_LENGTH);
    return blob;
  }

  /** The key a blob names, looked up in `region` (`undefined` for malformed or foreign blobs). */
  keyOfBlob(region: string, blob: Uint8Array): KmsKey | undefined {
    if (blob.length < HEADER_LENGTH + IV_LENGTH + 16 || blob[0] !== BLOB_VERSION) return undefined;
    const keyId = String.fromCharCode(...blob.subarray(1, HEADER_LENGTH));
    return this.#byRegion.get(region)?.get(keyId);
  }

  /** Decrypts a blob with the key it names; any tampering or context mismatch fails. */
  async decrypt(key: KmsKey, blob: Uint8Array, context: EncryptionContext = {}): Promise<DecryptOutcome> {
    const header = blob.slice(0, HEADER_LENGTH);
    const iv = blob.slice(HEADER_LENGTH, HEADER_LENGTH + IV_LENGTH);
    try {
      const plaintext = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: aad(header, context) },
        key.material,
        blob.slice(HEADER_LENGTH + IV_LENGTH),
      );
      return { ok: true, key, plaintext: new Uint8Array(plaintext) };
    } catch {
      return { ok: false, reason: "invalid-ciphertext" };
    }
  }
}

function aad(header: Uint8Array, context: EncryptionContext): Uint8Array<ArrayBuffer> {
  const canonical = JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]]));
  const tail = utf8Bytes(canonical);
  const out = new Uint8Array(header.length + tail.length);
  out.set(header, 0);
  out.set(tail, header.length);
  return out;
}

function policyAllows(policyPrincipal: string, caller: CredentialRecord): boolean {
  if (policyPrincipal === caller.principalArn || policyPrincipal === caller.callerArn) return true;
  return policyPrincipal === principalToRootArn(caller.principalArn);
}
