package report

import (
	"strings"
	"unicode/utf8"
)

// Much of a report is text the learner controls: their program's output,
// the errors it returns, values it wrote that a check quotes. Rendered
// as is, that text could clear the terminal, move the cursor over the
// checker's verdict, inject HTML into a CI job summary or make a JUnit
// file unreadable. Every renderer therefore passes report strings
// through the functions here; JSON needs nothing extra because its
// encoder escapes control characters and HTML itself.

// Clean returns s without terminal control sequences: ANSI CSI and OSC
// escapes (and any other ESC sequence) are removed whole, and the other
// C0 and C1 control characters, DEL and Unicode bidirectional overrides
// are dropped, except newline and tab. Invalid UTF-8 becomes U+FFFD.
// The result is safe to print on a terminal and valid in XML 1.0.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI: its parameters are removed with it
			i += size + csiBodyLen(s[i+size:])
			continue
		case r == 0x9d || r == 0x90 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, PM, APC
			i += size + stringBodyLen(s[i+size:])
			continue
		case dropped(r):
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// isClean is the fast path: most report text has nothing to remove.
func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == 0x1b || dropped(r) {
			return false
		}
	}
	return true
}

// dropped reports whether r is a control character Clean removes.
func dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	// Bidirectional embeddings, overrides and isolates reorder what a
	// terminal shows, so learner text could appear to say something else.
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0xfffe || r == 0xffff: // not characters in XML 1.0
		return true
	}
	return false
}

// escapeLen is the length of the escape sequence at the start of s,
// which begins with ESC: ESC [ … final (CSI), ESC ] … BEL or ESC \ (OSC),
// ESC P/X/^/_ … ESC \ (DCS, SOS, PM, APC), or ESC and one more character.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiBodyLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		return 2 + stringBodyLen(s[2:])
	}
	// Two-character escapes (ESC c, ESC 7, ESC ( B …): drop ESC and the
	// next character, unless that is a newline or tab the text needs.
	if s[1] == '\n' || s[1] == '\t' {
		return 1
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// csiBodyLen is the length of a CSI sequence's parameters and final byte.
func csiBodyLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		case c >= 0x20 && c <= 0x3f:
			// parameter or intermediate byte
		default:
			// Malformed: stop here and let the byte be judged on its own.
			return i
		}
	}
	return len(s)
}

// stringBodyLen is the length of an OSC/DCS string up to and including its
// terminator (BEL, ESC \ or the C1 ST), or all of s when it is unterminated.
func stringBodyLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		case s[i] == '\n':
			// A runaway string would otherwise swallow the rest of the text.
			return i
		}
	}
	return len(s)
}

// mdReplacer escapes what Markdown (GitHub Flavored) would interpret in
// running text: HTML and autolinks become entities, and emphasis, code,
// links, images, strikethrough and table pipes are backslash-escaped.
var mdReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"!", `\!`, "~", `\~`, "|", `\|`,
)

// mdText makes s safe as Markdown text inside a table cell or heading:
// cleaned of control characters, escaped, and on one line (a newline
// would end the table row; <br> keeps the line break visible).
func mdText(s string) string {
	s = mdReplacer.Replace(Clean(s))
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// mdCode renders s as an inline code span that s cannot end early: the
// fence is one backtick longer than the longest run of backticks in s.
// Inside code HTML is shown literally, but a pipe would still split a
// table cell, so it is escaped as GFM requires; newlines become spaces.
func mdCode(s string) string {
	s = strings.TrimSpace(strings.NewReplacer("\n", " ", "\t", " ").Replace(Clean(s)))
	if s == "" {
		return "` `"
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + strings.ReplaceAll(s, "|", `\|`) + fence
}
