package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/starling-ws/starling/client"
	"golang.org/x/term"
)

// interactive runs the session at a prompt with line editing and history
// (x/term's Terminal), printing each event with the time and a direction
// marker, and reading slash commands.
func (ss *session) interactive(ctx context.Context, s stdio, enc func([]byte) string) error {
	in, out := s.in.(*os.File), s.out.(*os.File) // isTerminal checked both
	fd := int(in.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return err
	}
	defer func() {
		_ = term.Restore(fd, old)
		fmt.Fprint(out, "\r\033[K") // erase the last prompt
	}()
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "> ")
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		_ = t.SetSize(w, h)
	}
	color := useColor(out)
	ss.notice = func(marker, text string) {
		m := marker
		if color {
			m = markerColor(t, marker) + marker + string(t.Escape.Reset)
		}
		fmt.Fprintf(t, "%s %s %s\n", time.Now().Format("15:04:05"), m, printable(text))
	}
	ss.show = func(ev client.Event) { ss.notice(describeEvent(ev, ss.url, enc)) }
	ss.line = ss.command

	lines := make(chan string)
	go func() {
		defer close(lines) // Ctrl-D on an empty line, or Ctrl-C
		for {
			line, err := t.ReadLine()
			if err != nil {
				return
			}
			lines <- line
		}
	}()
	return ss.run(ctx, lines, false)
}

// markerColor is the escape sequence for a direction marker's colour.
func markerColor(t *term.Terminal, marker string) string {
	switch marker {
	case "<":
		return string(t.Escape.Green)
	case "!":
		return string(t.Escape.Red)
	}
	return string(t.Escape.Yellow)
}
