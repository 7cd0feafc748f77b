// verify.mjs: reads JSON lines {headers, body, secret?, publicKey?, now?}
// on stdin and writes one JSON line for each, in order:
//   {standardwebhooks?: {ok, error?}, svix?: {...}, ed25519?: {...}}
// standardwebhooks and svix when a secret ("whsec_…") is given, ed25519
// when a public key ("whpk_…") is; now (unix seconds) replaces the clock.
// A line that is not JSON answers {error}. Bodies are text; one that is
// not JSON is reported ok with a note once the signature verified (see
// swh.mjs).
import readline from "node:readline";
import { standardWebhooks, svix, ed25519 } from "./swh.mjs";

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (line.trim() === "") continue;
  let out;
  try {
    const c = JSON.parse(line);
    out = {};
    if (c.secret) {
      out.standardwebhooks = standardWebhooks(c.secret, c.headers, c.body, c.now);
      out.svix = svix(c.secret, c.headers, c.body, c.now);
    }
    if (c.publicKey) out.ed25519 = ed25519(c.publicKey, c.headers, c.body, c.now);
  } catch (e) {
    out = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
