// Package xmlmsg reads the answer of an HTTP-event script (or of a plugin
// standing in for one) the way ISL Conference Proxy reads it, and
// re-encodes the XMLMSG commands in it for the proxy.
//
// The proxy POSTs each event to a script, which answers with XML: either
// <nomessage/> (nothing to do) or an XMLMSG document of commands for the
// proxy to execute:
//
//	<module secret="DATABASE_SECRET">
//	  <islLight>
//	    <session id="5a1b">
//	      <send to="client"><msgbox>1</msgbox><message>Hello</message></send>
//	    </session>
//	    <session id="5a1c">
//	      <send to="desk"><chat>1</chat><message>Hi</message><cp_label>Bot</cp_label></send>
//	    </session>
//	    <session id="5a1d"><drop/></session>
//	  </islLight>
//	</module>
//
// # What an answer means
//
// The proxy's documentation asks a strict script for "valid XML content".
// [Judge], the one rule for scripts and plugins, says so: any well-formed
// XML answer acknowledges the event. [ReadAnswer] tells the three kinds
// apart:
//
//   - <nomessage/>: acknowledged, nothing to execute;
//   - an XMLMSG document (root <module>): acknowledged, and forwarded to
//     the proxy whole ([Answer.Document]), every element and attribute,
//     the commands hookd does not know included: the proxy decides, and
//     checks the database secret as for any XMLMSG it receives;
//   - any other XML (<result>OK</result>): acknowledged, nothing executed,
//     and the attempt record says so ("acknowledged: XML not an XMLMSG
//     document, nothing executed (root element <result> …)").
//
// A body that is not XML (an HTML error page, plain text, empty), has a
// DTD or is over a limit does not acknowledge a strict delivery: it is
// retried, with the reason in the delivery log.
//
//	summary, commands, err := xmlmsg.Judge(body, strict)
//	if err != nil {
//		return err // not acknowledged: retried
//	}
//	// record summary ("xmlmsg: drop 5a1d"); forward commands, when not nil,
//	// as text/xml to the proxy's XMLMSG endpoint
//
// [Parse] is the checker of the islLight session commands hookd knows
// (msgbox, chat, drop): [ReadAnswer] uses it for the summaries and session
// records ("xmlmsg: drop 5a1d"), and an answer it cannot check is
// forwarded all the same, with the reason recorded
// ([Answer.Unchecked]).
//
// # Why no DTD at all
//
// Scripts are third-party web applications, sometimes behind proxies that
// answer with HTML error pages, and a reply may be forged by whoever sits
// between hookd and the script. A DTD is how entity bombs ("billion
// laughs") and external entities (SYSTEM "file:///etc/passwd") get into an
// XML document, and no valid reply needs one. encoding/xml does not expand
// entities a DTD defines, but Parse refuses any <!DOCTYPE> outright,
// wherever it appears, so that such a reply fails quickly and says why
// ([ErrDTD]) instead of failing later on an undefined entity.
//
// # Why unknown elements are forwarded
//
// An unknown command (<transfer>) or product (<islPronto>) is most likely
// a proxy feature this package does not know, and the proxy's XMLMSG
// interface has many. Refusing it would retry the event forever for a
// script that did nothing wrong; dropping it would silently change what
// the script asked the proxy to do. [Parse] records such elements in
// [Reply.Unknown] for the operator; [Answer.Document] forwards them. What
// is forwarded is re-encoded, never copied: names, attributes and text
// escaped again as UTF-8, and comments, processing instructions and
// anything in an XML namespace (no XMLMSG command has one) left out.
//
// # Limits
//
// A reply is at most [MaxReply] bytes, nests elements at most [MaxDepth]
// deep, holds at most [MaxCommands] commands (unknown items included) and
// messages of at most [MaxMessage] bytes; session ids, chat labels and the
// secret are at most 256 bytes; a forwarded document is at most
// [MaxDocument] bytes re-encoded. Going over a limit is an error
// ([ErrTooLarge]), never a silent truncation.
//
// # Notes
//
//   - Parse and ReadAnswer take bytes: the caller bounds reading the
//     response to MaxReply+1 bytes.
//   - Errors wrap one of [ErrNotXML], [ErrDTD], [ErrTooLarge] and
//     [ErrNotXMLMSG], and say what was wrong and what is allowed.
//   - A [Reply] and an [Answer] are plain data, safe for concurrent reads;
//     both print as their summary, never showing the secret.
package xmlmsg
