// The sign-up test guest: the username of a sign-up picks what its handler
// does, as in the Go SDK's internal/signupguest; both pass the scenarios
// of plugins/internal/signuptest.

import * as pdk from "@hookrt/pdk-as";
export { hookd_v1_on_event, hookd_v1_init, hookd_v1_on_signup } from "@hookrt/pdk-as";

const FIELDS: string[] = ["username", "domain", "email", "fullname", "language", "password", "EVENT_ID"];

function decide(s: pdk.Signup): pdk.Decision {
  const user = s.username();
  if (user == "allow") {
    pdk.log(pdk.Level.Info, "allowing " + s.email());
    return pdk.allow();
  }
  if (user == "refuse") return pdk.refuse("No sign-ups for <" + s.email() + "> & co.");
  if (user == "refuse-silent") return pdk.refuse("");
  if (user == "abstain") return pdk.abstain();
  if (user == "echo") {
    let r = "";
    for (let i = 0; i < FIELDS.length; i++) {
      const v = s.lookup(FIELDS[i]);
      if (v !== null) r += FIELDS[i] + "=" + v + ";";
    }
    return pdk.refuse(r);
  }
  if (user == "loop") {
    while (true) {}
  }
  if (user == "crash") throw new Error("signupguest: crash");
  if (user == "cannot") return pdk.cannotDecide("");
  return pdk.refuse("unknown username " + user);
}

pdk.handle((ev: pdk.Event): pdk.Reply => pdk.noMessage());
pdk.handleSignup(decide);
