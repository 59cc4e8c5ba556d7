package proxy

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// maxResponseHead bounds the CONNECT response head, so that a hostile
// proxy cannot make the client buffer without end.
const maxResponseHead = 32 << 10

// maxStatusLen bounds the status kept for error messages.
const maxStatusLen = 200

var (
	errHeadTooLong = errors.New("response head longer than 32 KiB")
	errStatusLine  = errors.New("malformed status line")
	errHeaderLine  = errors.New("malformed header line")
)

// response is a parsed CONNECT response head.
type response struct {
	code   int
	status string // "407 Proxy Authentication Required"
	header http.Header
}

// readResponse reads a final response head (RFC 9112 sections 4 and 5)
// from br, leaving anything after the empty line in br. Informational
// responses (1xx) other than 101 before it are skipped, as RFC 9110 section
// 15.2 requires of a client even when it asked for none; their bytes count
// against the same bound. Like most HTTP clients it accepts a bare LF as a
// line end (RFC 9112 section 2.2). Obsolete line folding is refused.
func readResponse(br *bufio.Reader) (*response, error) {
	budget := maxResponseHead
	for {
		r, err := readHead(br, &budget)
		if err != nil || r.code >= 200 || r.code == http.StatusSwitchingProtocols {
			return r, err
		}
	}
}

// readHead reads one response head from br, charging its length to
// budget.
func readHead(br *bufio.Reader, budget *int) (*response, error) {
	line, err := readLine(br, budget)
	if err != nil {
		return nil, err
	}
	r, err := parseStatusLine(line)
	if err != nil {
		return nil, err
	}
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return r, nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !validFieldName(k) {
			return nil, errHeaderLine
		}
		k = textproto.CanonicalMIMEHeaderKey(k)
		r.header[k] = append(r.header[k], strings.Trim(v, " \t"))
	}
}

// parseStatusLine parses "HTTP/1.x SP 3DIGIT SP [reason]" (RFC 9112
// section 4).
func parseStatusLine(line string) (*response, error) {
	rest, ok := strings.CutPrefix(line, "HTTP/1.")
	if !ok || len(rest) < 5 || rest[0] < '0' || rest[0] > '9' || rest[1] != ' ' {
		return nil, errStatusLine
	}
	status := rest[2:]
	code := 0
	for i := 0; i < 3; i++ {
		c := status[i]
		if c < '0' || c > '9' {
			return nil, errStatusLine
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || len(status) > 3 && status[3] != ' ' {
		return nil, errStatusLine
	}
	return &response{code: code, status: printable(status), header: http.Header{}}, nil
}

// printable returns s cut to maxStatusLen bytes with control characters
// replaced, since the reason phrase comes from the proxy and ends up in
// logs.
func printable(s string) string {
	if len(s) > maxStatusLen {
		s = s[:maxStatusLen]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// readLine reads one line from br, without its LF or CRLF, charging its
// length to budget.
func readLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return "", errHeadTooLong
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return "", io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", err
		}
		break
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}
