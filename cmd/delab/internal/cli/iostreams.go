package cli

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes, with what is known
// about the terminal. Tests use TestIO.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal is true when Out is an interactive terminal.
	IsTerminal bool
	// Color is true when colours may be used (a terminal, NO_COLOR unset, TERM not dumb).
	Color bool
	// Width is the terminal width in columns.
	Width int
}

// SystemIO describes the process's real streams.
func SystemIO() *IOStreams {
	isTTY := term.IsTerminal(int(os.Stdout.Fd()))
	width := 80
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
		width = w
	} else if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		width = c
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		IsTerminal: isTTY,
		Color:      isTTY && !noColor && os.Getenv("TERM") != "dumb",
		Width:      width,
	}
}

// TestIO returns streams backed by buffers, as a pipe would be.
func TestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut, Width: 80}, out, errOut
}
