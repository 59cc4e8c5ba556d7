// Command starling is a WebSocket client, server and load generator built on
// the starling library.
//
//	starling serve [flags]          echo, chat and ticker endpoints and a chat page
//	starling connect [flags] URL    talk to a WebSocket server from a terminal or a pipe
//	starling bench [flags] URL      measure an echo endpoint's throughput and latency
//
// Exit status is 0 after a normal close, 1 on a connection or protocol
// error, and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: starling <command> [flags] [arguments]

commands:
  serve     run the demo server: /echo, /chat with a page at /, /ticker
  connect   connect to a WebSocket URL; interactive on a terminal, line-based in pipes
  bench     load an echo endpoint and report messages/s, MB/s and latency

Run 'starling <command> -h' for a command's flags.
`

// stdio is the standard streams of one run, so tests and main share run.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit status.
func run(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 {
		fmt.Fprint(s.err, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], s)
	case "connect":
		err = connectCmd(ctx, args[1:], s)
	case "bench":
		err = benchCmd(ctx, args[1:], s)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(s.out, usage)
		return 0
	default:
		err = usageErrorf("unknown command %q", args[0])
	}
	return exitStatus(err, s.err)
}

// exitStatus prints err as one plain line and maps it to an exit status.
// The message may quote the server (a refusal's body), so its control
// characters are escaped: stderr is most often the user's terminal.
func exitStatus(err error, w io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	msg := printable(err.Error())
	if len(msg) < 10 || msg[:10] != "starling: " {
		msg = "starling: " + msg
	}
	fmt.Fprintln(w, msg)
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
