import { reply_set } from "./internal/host";
import { ByteWriter } from "./internal/bytes";
import { hostError } from "./internal/results";
import { STATUS_FAILED, STATUS_HANDLED, STATUS_RETRY, failWith } from "./internal/status";
import { encodeUTF8 } from "./internal/utf8";
import { appendAttr, appendElem, quoteText, trimmedBytes, validXMLText } from "./internal/xml";

/** Limits of an XMLMSG reply, as hookd checks them (internal/xmlmsg). */
export const MAX_MESSAGE: i32 = 4096; // bytes of a message, surrounding white space excluded
export const MAX_SHORT: i32 = 256; // bytes of a session id, a chat label or the secret
export const MAX_COMMANDS: i32 = 100; // commands in one reply

/**
 * Reply is a handler's answer to an event: what an HTTP-event script would
 * have printed, or a failure. Make one with noMessage, a Command (drop,
 * messageBox, chat), commands, xml, fail or failPermanently.
 *
 *     return pdk.commands(secret, [
 *       pdk.messageBox(id, "This session is recorded."),
 *       pdk.chat(id, "Customer warned.", "bot"),
 *     ]);
 */
export abstract class Reply {
  /** apply hands the reply to the host and returns the call's status. */
  abstract apply(): i32;
}

/** setReply hands doc to the host; a reply over max_reply fails the call, whatever the plugin returns. */
function setReply(doc: ArrayBuffer): i32 {
  const st = reply_set(changetype<usize>(doc), doc.byteLength);
  if (st < 0) return failWith(STATUS_RETRY, hostError("reply_set", st).message);
  return STATUS_HANDLED;
}

class NoMessage extends Reply {
  apply(): i32 {
    return STATUS_HANDLED;
  }
}

const theNoMessage = new NoMessage();

/**
 * noMessage answers <nomessage/>: the event is handled, the proxy has
 * nothing to do. It sets no reply, which the ABI reads as <nomessage/>.
 */
export function noMessage(): Reply {
  return theNoMessage;
}

class XMLReply extends Reply {
  constructor(private doc: string) {
    super();
  }

  apply(): i32 {
    if (this.doc.length == 0) return STATUS_HANDLED;
    return setReply(encodeUTF8(this.doc));
  }
}

/**
 * xml replies doc as it is: an XMLMSG document the handler wrote itself
 * (escape values with xmlEscape), for commands this package has no helper
 * for. "" is noMessage. hookd checks the document as it checks a script's
 * reply; a document it refuses fails the delivery.
 */
export function xml(doc: string): Reply {
  return new XMLReply(doc);
}

class Failure extends Reply {
  constructor(private status: i32, private msg: string) {
    super();
  }

  apply(): i32 {
    return failWith(this.status, this.msg.length ? this.msg : "pdk: failed without a message");
  }
}

/**
 * fail fails the call in a way that may succeed later: hookd retries the
 * delivery like that of a failed script (status 1), with msg as the
 * failure message.
 *
 *     if (res.value.status >= 500) return pdk.fail("receiver answered HTTP " + res.value.status.toString());
 */
export function fail(msg: string): Reply {
  return new Failure(STATUS_RETRY, msg);
}

/**
 * failPermanently fails the call for good: hookd dead-letters the delivery
 * (status 2), with msg as the failure message. For failures no retry can
 * fix, such as an invalid config.
 */
export function failPermanently(msg: string): Reply {
  return new Failure(STATUS_FAILED, msg);
}

const KIND_MSGBOX: u8 = 1;
const KIND_CHAT: u8 = 2;
const KIND_DROP: u8 = 3;

function kindName(k: u8): string {
  if (k == KIND_MSGBOX) return "msgbox";
  if (k == KIND_CHAT) return "chat";
  return "drop";
}

/**
 * Command is one XMLMSG command for a session. A Command is also a Reply:
 * returned alone, it is sent as commands("", [cmd]), with the secret set by
 * setSecret.
 */
export class Command extends Reply {
  constructor(public kind: u8, public session: string, public message: string, public label: string) {
    super();
  }

  apply(): i32 {
    return renderCommands("", [this]);
  }
}

/** drop terminates the session: <drop/>. */
export function drop(session: string): Command {
  return new Command(KIND_DROP, session, "", "");
}

/**
 * messageBox shows text in a message box on the client:
 * <send to="client"><msgbox>1</msgbox><message>text</message></send>.
 */
export function messageBox(session: string, text: string): Command {
  return new Command(KIND_MSGBOX, session, text, "");
}

/**
 * chat writes text into the desk's chat, under label when it is not empty:
 * <send to="desk"><chat>1</chat><message>text</message><cp_label>label</cp_label></send>.
 */
export function chat(session: string, text: string, label: string = ""): Command {
  return new Command(KIND_CHAT, session, text, label);
}

let defaultSecret = "";

/**
 * setSecret sets the XMLMSG database secret of the replies that do not name
 * one: a Command returned alone, and commands with an empty secret. The
 * proxy refuses most XMLMSG commands without it (Configuration → General →
 * Database secret); without a secret, <module> has no attribute.
 */
export function setSecret(secret: string): void {
  defaultSecret = secret;
}

class Commands extends Reply {
  constructor(private secret: string, private cmds: Command[]) {
    super();
  }

  apply(): i32 {
    return renderCommands(this.secret, this.cmds);
  }
}

/**
 * commands combines commands into one XMLMSG document, with the database
 * secret (or, when secret is "", the one set by setSecret):
 *
 *     <module secret="…"><islLight><session id="…">…</session></islLight></module>
 *
 * Consecutive commands for one session share a <session> element; the
 * order is kept. No commands is noMessage.
 *
 * # Notes
 *
 *   - Every value is XML-escaped; characters XML cannot carry become U+FFFD.
 *   - A reply hookd would refuse is not sent: an empty session id or
 *     message, a message over MAX_MESSAGE bytes, a session id, label or
 *     secret over MAX_SHORT bytes, or more than MAX_COMMANDS commands fail
 *     the call for good (status 2) with a message saying which.
 */
export function commands(secret: string, cmds: Command[]): Reply {
  return new Commands(secret, cmds.slice(0));
}

function renderCommands(secret: string, cmds: Command[]): i32 {
  if (cmds.length == 0) return STATUS_HANDLED;
  if (secret.length == 0) secret = defaultSecret;
  const doc = renderXMLMSG(secret, cmds);
  if (doc === null) return failWith(STATUS_FAILED, "pdk: reply not sent: " + renderError);
  return setReply(doc);
}

/** Why renderXMLMSG returned null. */
let renderError = "";

/** renderXMLMSG writes cmds as one XMLMSG document, or sets renderError to what hookd would refuse. */
function renderXMLMSG(secret: string, cmds: Command[]): ArrayBuffer | null {
  if (cmds.length > MAX_COMMANDS) {
    renderError = cmds.length.toString() + " commands; at most " + MAX_COMMANDS.toString() + " fit in a reply";
    return null;
  }
  secret = validXMLText(secret);
  if (trimmedBytes(secret) > MAX_SHORT) {
    renderError = "the secret is over " + MAX_SHORT.toString() + " bytes";
    return null;
  }
  const clean = new Array<Command>(cmds.length);
  let size = 64 + secret.length;
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    const v = new Command(c.kind, validXMLText(c.session), validXMLText(c.message), validXMLText(c.label));
    const err = check(v);
    if (err.length) {
      renderError = err;
      return null;
    }
    clean[i] = v;
    size += 96 + v.session.length + v.message.length + v.label.length;
  }
  const w = new ByteWriter(size);
  w.string("<module");
  if (secret.length) appendAttr(w, "secret", secret);
  w.string("><islLight>");
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i];
    if (i == 0 || clean[i - 1].session != c.session) {
      w.string("<session");
      appendAttr(w, "id", c.session);
      w.byte(0x3E);
    }
    if (c.kind == KIND_MSGBOX) {
      w.string(`<send to="client"><msgbox>1</msgbox>`);
      appendElem(w, "message", c.message);
      w.string("</send>");
    } else if (c.kind == KIND_CHAT) {
      w.string(`<send to="desk"><chat>1</chat>`);
      appendElem(w, "message", c.message);
      if (c.label.length) appendElem(w, "cp_label", c.label);
      w.string("</send>");
    } else {
      w.string("<drop/>");
    }
    if (i == clean.length - 1 || clean[i + 1].session != c.session) w.string("</session>");
  }
  w.string("</islLight></module>");
  return w.toBuffer();
}

/** check says what hookd would refuse in c, or "". */
function check(c: Command): string {
  if (c.kind < KIND_MSGBOX || c.kind > KIND_DROP) {
    return "a Command of unknown kind; make commands with drop, messageBox or chat";
  }
  const name = kindName(c.kind);
  const session = trimmedBytes(c.session);
  if (session == 0) return name + ": the session id is empty";
  const what = name + " for session " + quoteText(cut(c.session, 40));
  if (session > MAX_SHORT) return what + ": the session id is over " + MAX_SHORT.toString() + " bytes";
  if (c.kind == KIND_DROP) return "";
  const message = trimmedBytes(c.message);
  if (message == 0) return what + ": the message is empty";
  if (message > MAX_MESSAGE) return what + ": the message is " + message.toString() + " bytes, over " + MAX_MESSAGE.toString();
  if (trimmedBytes(c.label) > MAX_SHORT) return what + ": the label is over " + MAX_SHORT.toString() + " bytes";
  return "";
}

function cut(s: string, n: i32): string {
  return s.length <= n ? s : s.substring(0, n) + "…";
}
