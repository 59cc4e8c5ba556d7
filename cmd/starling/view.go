package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/starling-ws/starling/client"
)

// binaryEncoder returns the printer of binary payloads named by
// --binary-format.
func binaryEncoder(name string) (func([]byte) string, error) {
	switch name {
	case "hex":
		return hex.EncodeToString, nil
	case "base64":
		return base64.StdEncoding.EncodeToString, nil
	}
	return nil, usageErrorf("--binary-format must be hex or base64, not %q", name)
}

// pipeView prints each received message as one line and nothing else, so
// that the output of a script holds exactly the server's messages. Close
// codes and errors reach the user through the exit status and stderr.
func pipeView(w io.Writer, enc func([]byte) string) func(client.Event) {
	return func(ev client.Event) {
		switch ev := ev.(type) {
		case client.Text:
			fmt.Fprintln(w, ev.Data)
		case client.Binary:
			fmt.Fprintln(w, enc(ev.Data))
		}
	}
}

// jsonEvent is the --json form of an event: "event" is the event client's
// type name in snake case, and the other fields are those of the event.
type jsonEvent struct {
	Event       string  `json:"event"`
	Data        *string `json:"data,omitempty"`
	Subprotocol *string `json:"subprotocol,omitempty"`
	Extensions  string  `json:"extensions,omitempty"`
	Code        int     `json:"code,omitempty"`
	Reason      *string `json:"reason,omitempty"`
	Error       string  `json:"error,omitempty"`
	Attempt     int     `json:"attempt,omitempty"`
	DelayMS     *int64  `json:"delay_ms,omitempty"`
	Viable      *bool   `json:"viable,omitempty"`
	Suggested   *bool   `json:"suggested,omitempty"`
}

// jsonView prints one JSON object per event.
func jsonView(w io.Writer, enc func([]byte) string) func(client.Event) {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return func(ev client.Event) {
		if j, ok := toJSON(ev, enc); ok {
			_ = e.Encode(j)
		}
	}
}

func toJSON(ev client.Event, enc func([]byte) string) (jsonEvent, bool) {
	str := func(s string) *string { return &s }
	switch ev := ev.(type) {
	case client.Connected:
		return jsonEvent{Event: "connected", Subprotocol: str(ev.Subprotocol),
			Extensions: ev.Header.Get("Sec-WebSocket-Extensions")}, true
	case client.Text:
		return jsonEvent{Event: "text", Data: str(ev.Data)}, true
	case client.Binary:
		return jsonEvent{Event: "binary", Data: str(enc(ev.Data))}, true
	case client.Ping:
		return jsonEvent{Event: "ping", Data: str(string(ev.Data))}, true
	case client.Pong:
		return jsonEvent{Event: "pong", Data: str(string(ev.Data))}, true
	case client.Disconnected:
		return jsonEvent{Event: "disconnected", Code: int(ev.Code), Reason: str(ev.Reason)}, true
	case client.Cancelled:
		return jsonEvent{Event: "cancelled"}, true
	case client.Error:
		return jsonEvent{Event: "error", Error: plainError(ev.Err).Error()}, true
	case client.Reconnecting:
		ms := ev.Delay.Milliseconds()
		return jsonEvent{Event: "reconnecting", Attempt: ev.Attempt, DelayMS: &ms}, true
	case client.ViabilityChanged:
		return jsonEvent{Event: "viability_changed", Viable: &ev.Viable}, true
	case client.ReconnectSuggested:
		return jsonEvent{Event: "reconnect_suggested", Suggested: &ev.Suggested}, true
	}
	return jsonEvent{}, false
}

// describeEvent is the terminal's line for an event, after the time: a
// direction marker ("<" received, "*" state, "!" error) and the content.
func describeEvent(ev client.Event, url string, enc func([]byte) string) (marker, text string) {
	switch ev := ev.(type) {
	case client.Connected:
		var extra []string
		if ev.Subprotocol != "" {
			extra = append(extra, "subprotocol "+ev.Subprotocol)
		}
		if ext := ev.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			extra = append(extra, ext)
		}
		if len(extra) > 0 {
			return "*", fmt.Sprintf("connected to %s (%s); /help for commands", url, strings.Join(extra, ", "))
		}
		return "*", fmt.Sprintf("connected to %s; /help for commands", url)
	case client.Text:
		return "<", ev.Data
	case client.Binary:
		return "<", fmt.Sprintf("[binary, %d bytes] %s", len(ev.Data), enc(ev.Data))
	case client.Ping:
		return "<", fmt.Sprintf("[ping] %q", ev.Data)
	case client.Pong:
		return "<", fmt.Sprintf("[pong] %q", ev.Data)
	case client.Disconnected:
		return "*", "disconnected: " + closeText(ev.Code, ev.Reason)
	case client.Cancelled:
		return "*", "cancelled"
	case client.Error:
		return "!", plainError(ev.Err).Error()
	case client.Reconnecting:
		return "*", fmt.Sprintf("reconnecting in %v (attempt %d)", ev.Delay.Round(time.Millisecond), ev.Attempt)
	case client.ViabilityChanged:
		if ev.Viable {
			return "*", "traffic again"
		}
		return "*", "no traffic within the heartbeat timeout"
	case client.ReconnectSuggested:
		if ev.Suggested {
			return "*", "a new connection would likely serve better"
		}
		return "*", "reconnect suggestion withdrawn"
	}
	return "*", fmt.Sprintf("%T", ev)
}

// printable escapes the control characters of s (C0, DEL and C1, as Go
// quotes them: \x1b, \n, \u009b) and its bytes that are not UTF-8, so
// that text from the server shown to a person cannot move the cursor,
// clear the screen or set the window title with escape sequences
// (ECMA-48), and an event stays on one line.
func printable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}
