package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// What the domain and remote plugin commands share: the lists of the
// API, documents read from files, counts.

// showList GETs a list the API answers as {key: [...]} (or as a bare
// array) into out, a pointer to a slice; -json prints the answer as it
// came (see show).
func (c *client) showList(ctx context.Context, path string, query url.Values, key string, out any, asJSON bool, stdout io.Writer) (printed bool, err error) {
	raw, err := c.get(ctx, path, query, nil)
	if err != nil {
		return true, err
	}
	if asJSON {
		_, err = stdout.Write(raw)
		return true, err
	}
	if err := decodeList("GET", path, raw, key, out); err != nil {
		return true, err
	}
	return false, nil
}

// decodeList decodes the list under key of an answer, or an answer that
// is the list itself, into out.
func decodeList(method, path string, raw []byte, key string, out any) error {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		return decodeAnswer(method, path, raw, out)
	}
	var obj map[string]json.RawMessage
	if err := decodeAnswer(method, path, raw, &obj); err != nil {
		return err
	}
	list, ok := obj[key]
	if !ok {
		return fmt.Errorf("%s %s: the answer has no %q list", method, path, key)
	}
	return decodeAnswer(method, path, list, out)
}

// maxDocument bounds a JSON or TOML document the commands read from a
// file (a domain's settings, a plugin's settings, events, stubs).
const maxDocument = 16 << 20

// readDocument reads path ("-": stdin), at most maxDocument bytes.
func readDocument(path string) ([]byte, error) { return readBounded(path, maxDocument) }

// readBounded reads path ("-": stdin), refusing more than max bytes.
func readBounded(path string, max int64) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, max>>20)
	}
	return b, nil
}

// readJSONDoc reads a JSON object from path ("-": stdin), or a TOML one
// from a path ending in .toml, as JSON: the API takes JSON, a [[domain]]
// entry is written in TOML. A file that is neither is a usage error of f
// naming the file.
func readJSONDoc(path string, f *flagSet) ([]byte, error) {
	b, err := readDocument(path)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if strings.HasSuffix(path, ".toml") {
		if err := toml.Unmarshal(b, &obj); err != nil {
			return nil, f.usageErr(fmt.Errorf("%s: not TOML: %w", path, err))
		}
		return json.Marshal(obj)
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return nil, f.usageErr(fmt.Errorf("%s: want a JSON object (or TOML, in a file named .toml): %v", path, orNull(err)))
	}
	return b, nil
}

// orNull names why a JSON object was not one.
func orNull(err error) error {
	if err == nil {
		return fmt.Errorf("got null")
	}
	return err
}

// counts writes a map of counts as "dead 1, delivered 3", by name; "-"
// for none.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, clean(k, 30)+" "+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}
