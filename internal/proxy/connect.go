package proxy

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// connect asks the HTTP proxy pu, reached by conn, for a tunnel to addr
// with a CONNECT request (RFC 9110 section 9.3.6). Any 2xx response opens
// the tunnel; bytes the proxy sent after the response head are kept in the
// returned connection.
func (d *Dialer) connect(conn net.Conn, pu *url.URL, addr string) (net.Conn, error) {
	req, err := d.connectRequest(pu, addr)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(req); err != nil {
		return nil, fmt.Errorf("proxy: sending CONNECT to %s: %w", pu.Redacted(), err)
	}
	br := bufio.NewReader(conn)
	resp, err := readResponse(br)
	if err != nil {
		return nil, fmt.Errorf("proxy: reading the CONNECT response of %s: %w", pu.Redacted(), err)
	}
	if resp.code < 200 || resp.code > 299 {
		return nil, &Error{
			Proxy:      pu.Redacted(),
			Target:     addr,
			StatusCode: resp.code,
			Status:     resp.status,
			Header:     resp.header,
		}
	}
	return withBuffered(conn, br), nil
}

// connectRequest returns the CONNECT request head for addr. The request
// target is in authority form (RFC 9112 section 3.2.3).
func (d *Dialer) connectRequest(pu *url.URL, addr string) ([]byte, error) {
	h := http.Header{}
	if u := pu.User; u != nil {
		pass, _ := u.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + pass))
		h.Set("Proxy-Authorization", "Basic "+cred)
	}
	for k, vs := range d.ConnectHeader {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	delete(h, "Host") // always the target, written first
	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", addr, addr)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		vs := h[k]
		if !validFieldName(k) {
			return nil, fmt.Errorf("proxy: invalid CONNECT header name %q", k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("proxy: invalid value for CONNECT header %s", k)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String()), nil
}

// validFieldName reports whether k is a token (RFC 9110 section 5.1).
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
