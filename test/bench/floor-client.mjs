/**
 * The no-library floor of a first secret: the HTTP requests cerberus-edge makes to read one
 * secret in a fresh process, written with `node:http` and `node:crypto` alone, and the secret's
 * data printed as JSON. No retries, no checks, no timeouts: a floor to measure against, not a
 * client (cold-start.mjs times it next to the library).
 *
 * - `sts`: sign an STS `GetCallerIdentity` for `sts.<region>.amazonaws.com` with the `AWS_*` keys
 *   (SigV4 over `host;x-amz-date;x-amz-security-token`, never sent to STS), hand the signature to
 *   Cerberus (`POST /v2/auth/sts-identity`), then `GET /v1/secret/<path>` with the token.
 * - `kms`: IMDSv2 session (`PUT /latest/api/token`), `iam/info` (account) and the role list, then
 *   `POST /v2/auth/iam-principal`, the role's credentials, KMS `Decrypt` of `auth_data` signed with
 *   them (to `AWS_ENDPOINT_URL_KMS`), whose base64 JSON plaintext holds `client_token`; then the GET.
 *
 * Reads CERBERUS_URL, AWS_REGION, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN (sts),
 * AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_ENDPOINT_URL_KMS (kms), as the library does; plain
 * `http:` only, as the local stack serves (Node's global agent keeps connections alive, as the
 * library's transport does).
 *
 *   CERBERUS_URL=… AWS_REGION=… node test/bench/floor-client.mjs sts|kms app/demo/config
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";

const [mode, path] = process.argv.slice(2);
if ((mode !== "sts" && mode !== "kms") || !path) throw new Error("usage: floor-client.mjs sts|kms <secret path>");
const env = process.env;
const region = env.AWS_REGION;
const cerberus = env.CERBERUS_URL.replace(/\/$/, "");
const clientHeaders = { "X-Cerberus-Client": "cerberus-edge-floor/0", Accept: "application/json" };

/** Sends a request; resolves with the body of a 200 answer as text. */
function send(url, { method = "GET", headers = {}, body } = {}) {
  if (body !== undefined) headers = { ...headers, "Content-Length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        if (response.statusCode === 200) resolve(Buffer.concat(chunks).toString("utf8"));
        else reject(new Error(`${method} ${new URL(url).pathname} answered HTTP ${response.statusCode}`));
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

/** SigV4 for a POST to `/` of `host`: returns `headers` plus `X-Amz-Date`, the token and `Authorization`. */
function sign({ host, headers, body, service, credentials }) {
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const date = amzDate.slice(0, 8);
  const all = { ...headers, "X-Amz-Date": amzDate };
  if (credentials.sessionToken) all["X-Amz-Security-Token"] = credentials.sessionToken;
  const signed = { ...Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v])), host };
  const names = Object.keys(signed).sort();
  const canonical = ["POST", "/", "", ...names.map((n) => `${n}:${signed[n]}`), "", names.join(";"), sha256(body)]
    .join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const key = [region, service, "aws4_request"].reduce(hmac, hmac(`AWS4${credentials.secretAccessKey}`, date));
  const signature = createHmac("sha256", key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`)
    .digest("hex");
  all.Authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${
    names.join(";")
  }, Signature=${signature}`;
  return all;
}

async function stsToken() {
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN || undefined,
  };
  const body = "Action=GetCallerIdentity&Version=2011-06-15";
  const headers = sign({ host: `sts.${region}.amazonaws.com`, headers: {}, body, service: "sts", credentials });
  const answer = await send(`${cerberus}/v2/auth/sts-identity`, {
    method: "POST",
    headers: { ...clientHeaders, ...headers },
  });
  return JSON.parse(answer).client_token;
}

async function kmsToken() {
  const imds = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || "http://169.254.169.254").replace(/\/$/, "");
  const session = await send(`${imds}/latest/api/token`, {
    method: "PUT",
    headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
  });
  const meta = (p) => send(`${imds}/latest/meta-data/${p}`, { headers: { "X-aws-ec2-metadata-token": session } });
  const [info, roles] = await Promise.all([meta("iam/info"), meta("iam/security-credentials/")]);
  // The library's candidates, in its order: each role, under the instance profile's path first.
  const [, partition, account, profile] = /^arn:([^:]+):iam::(\d{12}):instance-profile\/(.*)$/
    .exec(JSON.parse(info).InstanceProfileArn);
  const profilePath = profile.split("/").slice(0, -1).join("/");
  let role, authData;
  for (role of roles.split("\n").map((line) => line.trim()).filter(Boolean)) {
    for (const name of profilePath ? [`${profilePath}/${role}`, role] : [role]) {
      const answer = await send(`${cerberus}/v2/auth/iam-principal`, {
        method: "POST",
        headers: { ...clientHeaders, "Content-Type": "application/json" },
        body: JSON.stringify({ iam_principal_arn: `arn:${partition}:iam::${account}:role/${name}`, region }),
      }).catch(() => undefined); // 400: no SDB grants this principal, try the next
      if ((authData = answer && JSON.parse(answer).auth_data)) break;
    }
    if (authData) break;
  }
  if (!authData) throw new Error("no role of the instance could authenticate");
  const keys = JSON.parse(await meta(`iam/security-credentials/${role}`));
  const kms = new URL(env.AWS_ENDPOINT_URL_KMS);
  const body = JSON.stringify({ CiphertextBlob: authData });
  const headers = sign({
    host: kms.host,
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Decrypt" },
    body,
    service: "kms",
    credentials: { accessKeyId: keys.AccessKeyId, secretAccessKey: keys.SecretAccessKey, sessionToken: keys.Token },
  });
  const decrypted = JSON.parse(await send(`${kms.origin}/`, { method: "POST", headers, body }));
  return JSON.parse(Buffer.from(decrypted.Plaintext, "base64").toString("utf8")).client_token;
}

const token = mode === "kms" ? await kmsToken() : await stsToken();
const secret = await send(`${cerberus}/v1/secret/${path.split("/").map(encodeURIComponent).join("/")}`, {
  headers: { ...clientHeaders, "X-Cerberus-Token": token },
});
console.log(JSON.stringify(JSON.parse(secret).data));
