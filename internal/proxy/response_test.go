package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantCode   int
		wantStatus string
		wantErr    error
		wantRest   string
	}{
		{"200", "HTTP/1.1 200 Connection established\r\n\r\n", 200, "200 Connection established", nil, ""},
		{"no reason", "HTTP/1.0 200\r\n\r\n", 200, "200", nil, ""},
		{"empty reason", "HTTP/1.1 200 \r\n\r\n", 200, "200 ", nil, ""},
		{"bare LF", "HTTP/1.1 200 OK\nVia: x\n\nrest", 200, "200 OK", nil, "rest"},
		{"headers and tunnel bytes", "HTTP/1.1 200 OK\r\nVia: 1.1 p\r\nContent-Length: 5\r\n\r\nhello", 200, "200 OK", nil, "hello"},
		{"407", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"r\"\r\n\r\n", 407, "407 Proxy Authentication Required", nil, ""},
		{"control chars in reason", "HTTP/1.1 403 No\x1b[31m\r\n\r\n", 403, "403 No?[31m", nil, ""},
		{"DEL and unit separator in reason", "HTTP/1.1 403 a\x1f\x7f~ b\r\n\r\n", 403, "403 a??~ b", nil, ""},
		{"invalid UTF-8 in reason", "HTTP/1.1 403 a\xffb\r\n\r\n", 403, "403 a?b", nil, ""},
		// A 101 is final, unlike other 1xx (RFC 9110 section 15.2.2): what
		// follows it is another protocol, not the next response.
		{"101 is final", "HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 101, "101 Switching Protocols", nil, "HTTP/1.1 200 OK\r\n\r\n"},
		// Other 1xx are skipped, whatever their code (RFC 9110 section 15.2).
		{"1xx skipped", "HTTP/1.1 199 Misc\r\n\r\nHTTP/1.1 209 Odd\r\n\r\n", 209, "209 Odd", nil, ""},
		// A higher minor version is read as 1.1 (RFC 9112 section 2.3).
		{"HTTP/1.9", "HTTP/1.9 200 OK\r\n\r\n", 200, "200 OK", nil, ""},
		{"HTTP/1.10", "HTTP/1.10 200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"no space after version", "HTTP/1.1_200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"minor version not a digit", "HTTP/1./ 200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"minor version after 9", "HTTP/1.: 200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"four-digit code, no reason", "HTTP/1.1 2000\r\n\r\n", 0, "", errStatusLine, ""},
		{"cut short", "HTTP/1.1 20\r\n\r\n", 0, "", errStatusLine, ""},
		{"HTTP/2", "HTTP/2 200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"lower case", "http/1.1 200 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"two-digit code", "HTTP/1.1 20 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"four-digit code", "HTTP/1.1 2000 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"code below 100", "HTTP/1.1 099 Odd\r\n\r\n", 0, "", errStatusLine, ""},
		{"letters in code", "HTTP/1.1 2x0 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"punctuation in code", "HTTP/1.1 2/0 OK\r\n\r\n", 0, "", errStatusLine, ""},
		{"header without colon", "HTTP/1.1 200 OK\r\nVia\r\n\r\n", 0, "", errHeaderLine, ""},
		{"folded header", "HTTP/1.1 200 OK\r\nVia: a\r\n b\r\n\r\n", 0, "", errHeaderLine, ""},
		{"space before colon", "HTTP/1.1 200 OK\r\nVia : a\r\n\r\n", 0, "", errHeaderLine, ""},
		{"truncated head", "HTTP/1.1 200 OK\r\nVia: a\r\n", 0, "", io.ErrUnexpectedEOF, ""},
		{"empty", "", 0, "", io.ErrUnexpectedEOF, ""},
		{"head of the largest size", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxResponseHead-24) + "\r\n\r\nx", 200, "200 OK", nil, "x"},
		{"endless header", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxResponseHead) + "\r\n\r\n", 0, "", errHeadTooLong, ""},
		{"endless headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: a\r\n", maxResponseHead/6+1) + "\r\n", 0, "", errHeadTooLong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			r, err := readResponse(br)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.code != tt.wantCode || r.status != tt.wantStatus {
				t.Fatalf("got %d %q, want %d %q", r.code, r.status, tt.wantCode, tt.wantStatus)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.wantRest {
				t.Fatalf("left %q, want %q", rest, tt.wantRest)
			}
		})
	}
}

func TestReadResponseHeader(t *testing.T) {
	in := "HTTP/1.1 407 Nope\r\nproxy-authenticate: Basic realm=\"a\"\r\nProxy-Authenticate:  Negotiate \t\r\n\r\n"
	r, err := readResponse(bufio.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	got := r.header["Proxy-Authenticate"]
	if len(got) != 2 || got[0] != `Basic realm="a"` || got[1] != "Negotiate" {
		t.Fatalf("Proxy-Authenticate = %q", got)
	}
}

func TestStatusTruncated(t *testing.T) {
	r, err := parseStatusLine("HTTP/1.1 500 " + strings.Repeat("é", maxStatusLen))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.status) > maxStatusLen+3 || !strings.HasPrefix(r.status, "500 é") {
		t.Fatalf("status is %d bytes: %q", len(r.status), r.status)
	}
}

// FuzzConnectResponse checks that the CONNECT response parser never
// panics, never keeps more than maxResponseHead bytes of head, and leaves
// every byte after the head unread.
func FuzzConnectResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nVia: 1.1 p\r\n\r\nearly"))
	f.Add([]byte("HTTP/1.0 407 Proxy Authentication Required\nProxy-Authenticate: Basic\n\n"))
	f.Add([]byte("HTTP/1.1 502\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 20"))
	f.Add([]byte("\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		r, err := readResponse(br)
		if err != nil {
			return
		}
		if r.code < 100 || r.code > 999 || len(r.status) > maxStatusLen*3 {
			t.Fatalf("code %d, status %q", r.code, r.status)
		}
		rest, _ := io.ReadAll(br)
		head := data[:len(data)-len(rest)]
		if !bytes.Equal(data[len(head):], rest) || !bytes.HasSuffix(head, []byte("\n\n")) && !bytes.HasSuffix(head, []byte("\n\r\n")) {
			t.Fatalf("head %q does not end at an empty line; rest %q", head, rest)
		}
	})
}

func BenchmarkReadResponse(b *testing.B) {
	head := []byte("HTTP/1.1 200 Connection established\r\nVia: 1.1 proxy\r\nProxy-Agent: test\r\n\r\n")
	r := bytes.NewReader(head)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(head)
		br.Reset(r)
		if _, err := readResponse(br); err != nil {
			b.Fatal(err)
		}
	}
}
