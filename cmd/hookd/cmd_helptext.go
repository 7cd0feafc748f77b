package main

import (
	"fmt"
	"strings"
)

// addHelps adds to helps the usage of a group's commands, written as the
// text they print: a command a block, blocks apart by blank lines. A
// block's first line is the synopsis ("hookd domains get ID [-json]"),
// continued on lines that start with a space; the lines that start with a
// tab say what it does. The command's name is the synopsis's leading
// lower-case words after "hookd" ("domains get"). Text helps writes as
// prose reads better than a table of Go strings, and cannot drift from
// the name it is filed under.
func addHelps(text string) {
	for name, h := range parseHelps(text) {
		if _, dup := helps[name]; dup {
			panic("cmd/hookd: help of " + name + " given twice")
		}
		helps[name] = h
	}
}

// parseHelps reads addHelps's text; it panics on text not in that form,
// which is the program's own.
func parseHelps(text string) map[string]cmdHelp {
	out := map[string]cmdHelp{}
	for _, block := range strings.Split(strings.Trim(text, "\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		h := cmdHelp{synopsis: lines[0]}
		var about []string
		for _, l := range lines[1:] {
			switch {
			case strings.HasPrefix(l, "\t"):
				about = append(about, l[1:])
			case strings.HasPrefix(l, " ") && about == nil:
				h.synopsis += "\n" + l
			default:
				panic(fmt.Sprintf("cmd/hookd: help line %q: start it with a tab (what the command does) or a space (more synopsis)", l))
			}
		}
		h.about = strings.Join(about, "\n")
		name := helpName(h.synopsis)
		if name == "" {
			panic(fmt.Sprintf("cmd/hookd: help synopsis %q: must start with hookd and a command", lines[0]))
		}
		out[name] = h
	}
	return out
}

// helpName is the command a synopsis is of: "hookd domains token create
// ID -name NAME" is "domains token create".
func helpName(synopsis string) string {
	words := strings.Fields(synopsis)
	if len(words) < 2 || words[0] != "hookd" {
		return ""
	}
	var name []string
	for _, w := range words[1:] {
		if strings.Trim(w, "abcdefghijklmnopqrstuvwxyz-") != "" || strings.HasPrefix(w, "-") {
			break
		}
		name = append(name, w)
	}
	return strings.Join(name, " ")
}
