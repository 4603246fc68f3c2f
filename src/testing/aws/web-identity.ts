/**
 * Web identity tokens the emulated STS accepts for `AssumeRoleWithWebIdentity`
 * (standing in for an OIDC provider such as EKS's).
 *
 * @module
 */

/** What a registered web identity token stands for. */
export interface WebIdentityGrant {
  /** `SubjectFromWebIdentityToken`, e.g. `system:serviceaccount:ns:app`. */
  subject: string;
  /** Audience of the token. */
  audience: string;
  /** Provider name reported in the response. */
  provider: string;
  /** Role ARNs the token may assume; empty means any role known to the stack. */
  roleArns: string[];
}

/** Registry of accepted web identity tokens. */
export class WebIdentityRegistry {
  readonly #grants = new Map<string, WebIdentityGrant>();

  /** Accepts `token` from now on. */
  add(token: string, grant: Partial<WebIdentityGrant> = {}): void {
    this.#grants.set(token, {
      subject: grant.subject ?? "system:serviceaccount:default:app",
      audience: grant.audience ?? "sts.amazonaws.com",
      provider: grant.provider ?? "arn:aws:iam::111122223333:oidc-provider/oidc.local.test",
      roleArns: grant.roleArns ?? [],
    });
  }

  /** The grant of a token, if it is accepted. */
  get(token: string): WebIdentityGrant | undefined {
    return this.#grants.get(token);
  }
}
