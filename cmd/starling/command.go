package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/starling-ws/starling"
)

const commandHelp = `/ping [text]            send a ping
/pong [text]            send an unsolicited pong
/binary <hex>           send a binary message, e.g. /binary 68 69
/close [code] [reason]  close with a status code (default 1000) and wait for the answer
/quit                   close with 1000 and leave (also Ctrl-D or Ctrl-C)
/help                   this list
Any other line is sent as a text message; start it with // to send a leading /.`

// command acts on a line typed at the prompt: a slash command, or text to
// send.
func (ss *session) command(line string) {
	if !strings.HasPrefix(line, "/") || strings.HasPrefix(line, "//") {
		ss.send(strings.TrimPrefix(line, "/"))
		return
	}
	name, arg, _ := strings.Cut(line[1:], " ")
	arg = strings.TrimSpace(arg)
	var err error
	switch name {
	case "ping":
		err = ss.client.WritePing([]byte(arg), ss.written)
	case "pong":
		err = ss.client.WritePong([]byte(arg), ss.written)
	case "binary":
		var p []byte
		if p, err = hex.DecodeString(strings.Join(strings.Fields(arg), "")); err == nil {
			err = ss.client.WriteData(p, ss.written)
		}
	case "close":
		var code starling.StatusCode
		var reason string
		if code, reason, err = parseClose(arg); err == nil {
			ss.close(code, reason)
		}
	case "quit":
		ss.close(starling.StatusNormalClosure, "")
	case "help":
		for _, l := range strings.Split(commandHelp, "\n") {
			ss.notice("*", l)
		}
	default:
		err = fmt.Errorf("unknown command /%s; /help lists them", name)
	}
	if err != nil {
		ss.warn(err)
	}
}

// parseClose reads "/close [code] [reason]", checking the code is one an
// endpoint may send (RFC 6455 section 7.4) and the reason fits a close
// frame (section 5.5: 125 bytes, 2 of them the code).
func parseClose(arg string) (starling.StatusCode, string, error) {
	if arg == "" {
		return starling.StatusNormalClosure, "", nil
	}
	num, reason, _ := strings.Cut(arg, " ")
	n, err := strconv.Atoi(num)
	code := starling.StatusCode(n)
	switch {
	case err != nil:
		return 0, "", fmt.Errorf("/close: %q is not a status code", num)
	case !(code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999):
		return 0, "", fmt.Errorf("/close: %d may not be sent; use 1000-1003, 1007-1014 or 3000-4999", n)
	case len(reason) > 123:
		return 0, "", fmt.Errorf("/close: the reason is %d bytes, at most 123 fit", len(reason))
	}
	return code, strings.TrimSpace(reason), nil
}
