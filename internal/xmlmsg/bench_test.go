package xmlmsg_test

import (
	"testing"

	"github.com/hookrt/hookd/internal/xmlmsg"
)

// BenchmarkParse measures the common answer, <nomessage/>, and the
// documented three-command XMLMSG reply.
func BenchmarkParse(b *testing.B) {
	for _, bb := range []struct {
		name string
		body string
	}{
		{"nomessage", "<nomessage/>"},
		{"three commands", documented},
	} {
		b.Run(bb.name, func(b *testing.B) {
			body := []byte(bb.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := xmlmsg.Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDocument(b *testing.B) {
	r, err := xmlmsg.Parse([]byte(documented))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Document()
	}
}
