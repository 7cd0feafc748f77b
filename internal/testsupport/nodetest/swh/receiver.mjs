// receiver.mjs: a webhook receiver as a user of Standard Webhooks writes
// it. It listens on 127.0.0.1 (an ephemeral port), prints {"port": N} as
// its first line, then one JSON line per request:
//   {method, path, headers, body, id, timestamp, standardwebhooks: [..],
//    svix: [..], ed25519?: {..}, valid, status}
// with one standardwebhooks and one svix result per secret, in the order
// given (HOOKD_SWH_SECRETS, space-separated "whsec_…"), and ed25519 when
// HOOKD_SWH_PUBLIC_KEY ("whpk_…") is set. A request is valid when every
// one of those checks accepts it (hookd signs with all its secrets: a
// receiver holding any one of them must accept; a body that is not JSON
// passes with a note, see swh.mjs); it is answered 204 if valid, else
// 400. The receiver exits when its stdin closes, so that it never
// outlives the test that started it.
import http from "node:http";
import { standardWebhooks, svix, ed25519 } from "./swh.mjs";

const secrets = (process.env.HOOKD_SWH_SECRETS || "").split(/\s+/).filter((s) => s !== "");
const publicKey = process.env.HOOKD_SWH_PUBLIC_KEY || "";
if (secrets.length === 0 && publicKey === "") {
  process.stderr.write("receiver.mjs: set HOOKD_SWH_SECRETS and/or HOOKD_SWH_PUBLIC_KEY\n");
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const out = {
      method: req.method,
      path: req.url,
      headers: req.headers,
      body,
      id: req.headers["webhook-id"] || "",
      timestamp: req.headers["webhook-timestamp"] || "",
      standardwebhooks: secrets.map((s) => standardWebhooks(s, req.headers, body)),
      svix: secrets.map((s) => svix(s, req.headers, body)),
    };
    if (publicKey) out.ed25519 = ed25519(publicKey, req.headers, body);
    out.valid = [...out.standardwebhooks, ...out.svix, ...(out.ed25519 ? [out.ed25519] : [])].every((r) => r.ok);
    out.status = out.valid ? 204 : 400;
    res.writeHead(out.status, out.valid ? {} : { "content-type": "text/plain" });
    res.end(out.valid ? undefined : "signature refused\n");
    process.stdout.write(JSON.stringify(out) + "\n");
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
