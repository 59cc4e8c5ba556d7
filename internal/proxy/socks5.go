package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
)

// SOCKS5 constants from RFC 1928 and RFC 1929.
const (
	socksVersion    = 5
	socksNoAuth     = 0x00
	socksUserPass   = 0x02
	socksNoMethods  = 0xFF
	socksCmdConnect = 1
	socksIPv4       = 1
	socksDomain     = 3
	socksIPv6       = 4
	userPassVer     = 1
)

var (
	errSOCKSVersion = errors.New("not a SOCKS5 reply")
	errSOCKSAddr    = errors.New("unknown address type in SOCKS5 reply")
)

// socksConnect asks the SOCKS5 proxy pu, reached by conn, for a tunnel to
// addr. A host name is always sent to the proxy to resolve, for socks5 as
// for socks5h: this is what net/http does, it keeps DNS queries off the
// client's network, and it reaches names only the proxy can resolve.
// Reads are exact, so no byte of the tunnel is consumed.
func socksConnect(conn net.Conn, pu *url.URL, addr string) error {
	name := pu.Redacted()
	if err := socksAuth(conn, pu); err != nil {
		return fmt.Errorf("proxy: SOCKS5 proxy %s: %w", name, err)
	}
	req, err := socksRequest(addr)
	if err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("proxy: SOCKS5 proxy %s: %w", name, err)
	}
	rep, err := readSOCKSReply(conn)
	if err != nil {
		return fmt.Errorf("proxy: SOCKS5 proxy %s: %w", name, err)
	}
	if rep != 0 {
		return &SOCKSError{Proxy: name, Target: addr, Reply: rep}
	}
	return nil
}

// socksAuth negotiates the method (RFC 1928 section 3) and, if the proxy
// picks it, runs the username/password exchange (RFC 1929 section 2).
func socksAuth(conn net.Conn, pu *url.URL) error {
	hello := []byte{socksVersion, 1, socksNoAuth}
	if pu.User != nil {
		hello = []byte{socksVersion, 2, socksNoAuth, socksUserPass}
	}
	if _, err := conn.Write(hello); err != nil {
		return err
	}
	var sel [2]byte
	if _, err := io.ReadFull(conn, sel[:]); err != nil {
		return unexpected(err)
	}
	if sel[0] != socksVersion {
		return errSOCKSVersion
	}
	switch sel[1] {
	case socksNoAuth:
		return nil
	case socksUserPass:
		if pu.User == nil {
			break // the proxy picked a method we did not offer
		}
		return socksUserPassAuth(conn, pu.User)
	case socksNoMethods:
		return fmt.Errorf("accepts none of the offered authentication methods %v: %w", hello[2:], ErrAuth)
	}
	return fmt.Errorf("picked authentication method %d, which was not offered", sel[1])
}

func socksUserPassAuth(conn net.Conn, u *url.Userinfo) error {
	user := u.Username()
	pass, _ := u.Password()
	if len(user) == 0 || len(user) > 255 || len(pass) == 0 || len(pass) > 255 {
		return errors.New("RFC 1929 username and password must each be 1 to 255 bytes")
	}
	msg := append([]byte{userPassVer, byte(len(user))}, user...)
	msg = append(msg, byte(len(pass)))
	msg = append(msg, pass...)
	if _, err := conn.Write(msg); err != nil {
		return err
	}
	var st [2]byte
	if _, err := io.ReadFull(conn, st[:]); err != nil {
		return unexpected(err)
	}
	if st[1] != 0 {
		return fmt.Errorf("rejected the username and password (RFC 1929 status %d): %w", st[1], ErrAuth)
	}
	return nil
}

// socksRequest encodes a CONNECT request for host:port (RFC 1928 section
// 4), with an IP address type when the host is a literal address.
func socksRequest(addr string) ([]byte, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("proxy: bad port in %q", addr)
	}
	req := []byte{socksVersion, socksCmdConnect, 0}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
		ip = ip.Unmap()
		if ip.Is4() {
			req = append(req, socksIPv4)
		} else {
			req = append(req, socksIPv6)
		}
		req = append(req, ip.AsSlice()...)
	} else {
		if len(host) > 255 {
			return nil, fmt.Errorf("proxy: host name longer than 255 bytes for SOCKS5: %q", host)
		}
		req = append(req, socksDomain, byte(len(host)))
		req = append(req, host...)
	}
	return binary.BigEndian.AppendUint16(req, uint16(port)), nil
}

// readSOCKSReply reads a reply (RFC 1928 section 6) and returns its REP
// field. On success it reads exactly the reply's length, BND.ADDR and
// BND.PORT included, and ignores the bound address; on failure it stops
// after REP, since the proxy closes the connection anyway.
func readSOCKSReply(r io.Reader) (byte, error) {
	var h [4]byte // VER REP RSV ATYP
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, unexpected(err)
	}
	if h[0] != socksVersion {
		return 0, errSOCKSVersion
	}
	if h[1] != 0 {
		return h[1], nil
	}
	var n int // address length
	switch h[3] {
	case socksIPv4:
		n = 4
	case socksIPv6:
		n = 16
	case socksDomain:
		var l [1]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, unexpected(err)
		}
		n = int(l[0])
	default:
		return 0, errSOCKSAddr
	}
	if _, err := io.ReadFull(r, make([]byte, n+2)); err != nil {
		return 0, unexpected(err)
	}
	return 0, nil
}

// unexpected turns io.EOF in the middle of the exchange into
// io.ErrUnexpectedEOF: a proxy that closes before its answer is complete
// has failed, and a bare io.EOF would read as a clean end.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
