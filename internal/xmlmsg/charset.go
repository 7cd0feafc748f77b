package xmlmsg

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// errCharset marks an encoding declared in <?xml … encoding="…"?> that
// Parse does not convert.
var errCharset = errors.New("unsupported encoding")

// charsetReader converts the single-byte encodings that scripts written in
// PHP or ASP copy into their XML declaration. Refusing them would make a
// strict delivery fail forever for a reply that is otherwise fine; anything
// more exotic is refused with a message asking for UTF-8.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "us-ascii", "ascii":
		// US-ASCII is a subset of ISO-8859-1; a stray high byte is read
		// as Latin-1 instead of failing the delivery.
		return &singleByteReader{r: r}, nil
	case "windows-1252", "cp1252":
		return &singleByteReader{r: r, high: &cp1252}, nil
	}
	return nil, &replyError{kind: errCharset, msg: "encoding " + quoteCut(label, 32) +
		" is not supported; answer in UTF-8 (ISO-8859-1, US-ASCII and windows-1252 are converted)"}
}

// singleByteReader decodes a single-byte encoding to UTF-8: bytes below
// 0x80 and, without a table, all bytes are their own code point
// (ISO-8859-1); high maps 0x80–0x9F for windows-1252.
type singleByteReader struct {
	r    io.Reader
	high *[32]rune
	in   [512]byte
	out  []byte // decoded; out[off:] is not yet returned
	off  int
	err  error // from r, returned once out is drained
}

func (s *singleByteReader) Read(p []byte) (int, error) {
	for s.off == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.r.Read(s.in[:])
		s.err = err
		s.out, s.off = s.out[:0], 0
		for _, c := range s.in[:n] {
			r := rune(c)
			if s.high != nil && c >= 0x80 && c < 0xA0 {
				r = s.high[c-0x80]
			}
			s.out = utf8.AppendRune(s.out, r)
		}
	}
	n := copy(p, s.out[s.off:])
	s.off += n
	return n, nil
}

// cp1252 is windows-1252 at 0x80–0x9F; its five undefined bytes decode to
// U+FFFD.
var cp1252 = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}
