package xmlmsg

import (
	"bytes"
	"encoding/xml"
	"errors"
)

// Merge joins the documents of several answers ([Answer.Document]) into
// one XMLMSG document, their commands in order under one <module>: what a
// combined delivery forwards when each of its events got an answer of its
// own (a plugin is called once per event). The command sink takes one
// document per attempt; merging keeps every command instead of only one
// answer's.
//
// It returns an error when the documents' <module> elements differ (a
// different secret cannot share one element) or the merged document would
// be over [MaxDocument]; nil documents are skipped, and a single document
// is returned as it is.
func Merge(docs ...[]byte) ([]byte, error) {
	var (
		start []byte
		inner [][]byte
		first []byte
	)
	for _, d := range docs {
		if d == nil {
			continue
		}
		if first == nil {
			first = d
		}
		s, in, ok := moduleParts(d)
		if !ok {
			return nil, errors.New("xmlmsg: Merge takes documents made by Answer.Document")
		}
		if start != nil && !bytes.Equal(s, start) {
			return nil, errorf(ErrNotXMLMSG, "the answers' <module> elements differ (another secret); they cannot be forwarded as one document")
		}
		start = s
		inner = append(inner, in)
	}
	if len(inner) <= 1 {
		return first, nil
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.Write(start)
	for _, in := range inner {
		b.Write(in)
	}
	b.WriteString("</module>\n")
	if b.Len() > MaxDocument {
		return nil, errorf(ErrTooLarge, "the merged XMLMSG document is %d bytes; at most %d are allowed (MaxDocument)", b.Len(), MaxDocument)
	}
	return b.Bytes(), nil
}

// moduleParts splits a document copyDocument wrote into its <module …>
// start tag and the content up to </module>. The start tag ends at the
// first '>': copyDocument escapes '>' in attribute values.
func moduleParts(doc []byte) (start, inner []byte, ok bool) {
	rest, ok := bytes.CutPrefix(doc, []byte(xml.Header))
	if !ok || !bytes.HasPrefix(rest, []byte("<module")) {
		return nil, nil, false
	}
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	end := bytes.IndexByte(rest, '>')
	if end < 0 || rest[end-1] == '/' || !bytes.HasSuffix(rest, []byte("</module>")) {
		return nil, nil, false
	}
	return rest[:end+1], rest[end+1 : len(rest)-len("</module>")], true
}
