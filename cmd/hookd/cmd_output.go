package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// What the operator commands print comes partly from outside: receivers'
// error texts and response excerpts, event fields sent by the proxy.
// Tables and detail views pass every such string through clean, so that a
// receiver cannot move the cursor, recolour or rewrite the operator's
// terminal, and a newline or tab cannot break a table's columns; -json
// prints the API's answer untouched.

// clean escapes what is not printable (control characters, invalid
// UTF-8, bidirectional overrides) and cuts s to maxRunes runes (0: no cut),
// marking the cut with "…".
func clean(s string, maxRunes int) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if maxRunes > 0 && n == maxRunes {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case !unicode.IsGraphic(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
		n++
	}
	return b.String()
}

// orDash is s, or "-" for an empty table cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtTime prints a time of the API in the local time zone, to the second;
// "-" for none.
func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

// table writes aligned columns (text/tabwriter); cells must be cleaned.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() error { return t.tw.Flush() }
