// Package xmlmsg parses and validates the reply of an HTTP-event script,
// and re-serialises the XMLMSG commands in it for the proxy.
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
// In strict mode only a reply that [Parse] accepts acknowledges the event:
//
//	r, err := xmlmsg.Parse(body)
//	if err != nil {
//		return err // not acknowledged: retried
//	}
//	log.Info("script replied", "reply", r) // r.Summary(), never the secret
//	if doc := r.Document(); doc != nil {
//		// POST doc as text/xml to the proxy's XMLMSG endpoint
//	}
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
// # Why unknown elements are skipped, not refused
//
// In strict mode a refused reply is retried until it is acknowledged. An
// unknown command (<transfer>) or product (<islPronto>) is most likely a
// proxy feature this package does not know yet; refusing it would retry
// the event forever for a script that did nothing wrong. Such elements are
// therefore recorded in [Reply.Unknown] for the operator and left out of
// [Reply.Document]. A known element that is malformed (a send without its
// message, a drop with content) is a mistake of the script and an error
// ([ErrNotXMLMSG]), so that the operator sees it at once.
//
// # Limits
//
// A reply is at most [MaxReply] bytes, nests elements at most [MaxDepth]
// deep, holds at most [MaxCommands] commands (unknown items included) and
// messages of at most [MaxMessage] bytes; session ids, chat labels and the
// secret are at most 256 bytes. Going over a limit is an error
// ([ErrTooLarge]), never a silent truncation.
//
// # Notes
//
//   - Parse takes bytes: the caller bounds reading the response to
//     MaxReply+1 bytes.
//   - Errors wrap one of [ErrNotXML], [ErrDTD], [ErrTooLarge] and
//     [ErrNotXMLMSG], and say what was wrong and what is allowed.
//   - A [Reply] is plain data; it is safe for concurrent reads.
package xmlmsg
