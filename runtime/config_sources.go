package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Where a value of a loaded config came from, as [Config.Source] says.
const (
	SourceFile    = "file"
	SourceDefault = "default"
	// Any other source is the name of the environment variable that set
	// the key (HOOKD_SERVER_LISTEN): see [EnvPrefix].
)

// Source says where the value of key (dotted: "server.listen",
// "jwt_webhook.events.user_create", "domain[1].strict" for the second
// [[domain]] entry) came from: [SourceFile], the name of
// the environment variable that set it, or [SourceDefault] for a key
// neither set. A key under a table the file sets whole (a plugin's config,
// the claims) is the file's. A config built in Go has no sources: every
// key is its default.
func (c *Config) Source(key string) string {
	for k := key; ; {
		if s, ok := c.sources[k]; ok {
			return s
		}
		if j := strings.LastIndexByte(k, '['); j > strings.LastIndexByte(k, '.') && strings.HasSuffix(k, "]") {
			// An entry of an array a file sets whole (signing_secrets =
			// [{ file = "…" }, "…"]) exists only because the file set
			// the array; arrays of tables ([[domain]]) have their own.
			if s, ok := c.arrays[k[:j]]; ok {
				return s
			}
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return SourceDefault
		}
		k = k[:i] // an inline table the file sets whole
	}
}

// setSources records that keys, the keys a file or a variable set (as
// [config.Result].Keys lists them), came from src. Only leaves are kept:
// a table header ([server]) sets nothing itself.
func (c *Config) setSources(keys []string, src string) {
	if c.sources == nil {
		c.sources = map[string]string{}
	}
	table := map[string]bool{}
	for _, k := range keys {
		for i := strings.LastIndexByte(k, '.'); i > 0; i = strings.LastIndexByte(k[:i], '.') {
			table[k[:i]] = true
		}
	}
	for _, k := range keys {
		if !table[k] {
			c.sources[k] = src
		}
	}
	// An array set whole lists its entries' keys without an index
	// (signing_secrets.file): the array is a "table" above, and Source
	// finds its entries through it.
	for k := range table {
		if strings.HasSuffix(k, "]") {
			continue
		}
		if c.arrays == nil {
			c.arrays = map[string]string{}
		}
		c.arrays[k] = src
	}
}

// annotateSources appends to every key line of out, a TOML document
// written by Redacted, a comment naming where its value came from:
// "# file", "# default", "# env HOOKD_SERVER_LISTEN". A config without
// sources (built in Go) is left as it is.
func (c *Config) annotateSources(out []byte) []byte {
	if c.sources == nil {
		return out
	}
	var buf bytes.Buffer
	table := ""
	entry := map[string]int{} // array of tables → the entry being written
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "[[") && strings.HasSuffix(t, "]]"):
			name := strings.Trim(t, "[] ")
			n, seen := entry[name]
			if seen {
				n++
			}
			entry[name] = n
			table = fmt.Sprintf("%s[%d]", name, n)
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			table = strings.Trim(t, "[] ")
			first, rest, _ := strings.Cut(table, ".")
			if n, ok := entry[first]; ok && rest != "" { // [domain.plugin] of the current [[domain]]
				table = fmt.Sprintf("%s[%d].%s", first, n, rest)
			}
		default:
			key, _, ok := strings.Cut(t, " = ")
			if !ok || strings.HasPrefix(t, "#") || strings.HasPrefix(key, `"`) {
				break
			}
			full := key
			if table != "" {
				full = table + "." + key
			}
			src := c.Source(full)
			if src != SourceFile && src != SourceDefault {
				src = "env " + src
			}
			line += "  # " + src
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}
