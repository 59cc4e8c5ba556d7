package proxy

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSOCKSRequest(t *testing.T) {
	tests := []struct {
		addr string
		want []byte
	}{
		{"127.0.0.1:80", []byte{5, 1, 0, 1, 127, 0, 0, 1, 0, 80}},
		{"[::ffff:10.0.0.1]:443", []byte{5, 1, 0, 1, 10, 0, 0, 1, 1, 187}},
		{"[2001:db8::1]:8080", append(append([]byte{5, 1, 0, 4}, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0x1f, 0x90)},
		{"example.com:65535", append(append([]byte{5, 1, 0, 3, 11}, "example.com"...), 0xff, 0xff)},
		// The longest name a length octet can give (RFC 1928 section 5).
		{strings.Repeat("a", 255) + ":80", append(append([]byte{5, 1, 0, 3, 255}, strings.Repeat("a", 255)...), 0, 80)},
	}
	for _, tt := range tests {
		got, err := socksRequest(tt.addr)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("socksRequest(%s) = %v, %v; want %v", tt.addr, got, err, tt.want)
		}
	}
	// A zoned address cannot be sent as an IP; it goes as a name.
	if got, err := socksRequest("[fe80::1%eth0]:80"); err != nil || got[3] != socksDomain || string(got[5:5+got[4]]) != "fe80::1%eth0" {
		t.Errorf("zoned address: %v, %v", got, err)
	}
	for _, bad := range []string{strings.Repeat("a", 256) + ":80", "example.com:70000", "example.com"} {
		if _, err := socksRequest(bad); err == nil {
			t.Errorf("socksRequest(%.20s…) succeeded", bad)
		}
	}
}

func TestReadSOCKSReply(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		wantRep  byte
		wantErr  error
		wantRest string
	}{
		{"IPv4", []byte{5, 0, 0, 1, 1, 2, 3, 4, 0, 80, 'x'}, 0, nil, "x"},
		{"IPv6", append(append([]byte{5, 0, 0, 4}, make([]byte, 16)...), 0, 80, 'x'), 0, nil, "x"},
		{"domain", append([]byte{5, 0, 0, 3, 3, 'a', 'b', 'c', 0, 80}, 'x'), 0, nil, "x"},
		{"empty domain", []byte{5, 0, 0, 3, 0, 0, 80}, 0, nil, ""},
		{"failure stops after REP", []byte{5, 5, 0, 1}, 5, nil, ""},
		{"wrong version", []byte{4, 0, 0, 1, 1, 2, 3, 4, 0, 80}, 0, errSOCKSVersion, ""},
		{"unknown address type", []byte{5, 0, 0, 9, 0, 0}, 0, errSOCKSAddr, ""},
		{"truncated address", []byte{5, 0, 0, 1, 1, 2}, 0, io.ErrUnexpectedEOF, ""},
		{"truncated domain length", []byte{5, 0, 0, 3}, 0, io.ErrUnexpectedEOF, ""},
		{"truncated header", []byte{5, 0}, 0, io.ErrUnexpectedEOF, ""},
		// The reply answers a request: none at all is a failure too.
		{"empty", nil, 0, io.ErrUnexpectedEOF, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bytes.NewReader(tt.in)
			rep, err := readSOCKSReply(r)
			if !errors.Is(err, tt.wantErr) || rep != tt.wantRep {
				t.Fatalf("got %d, %v; want %d, %v", rep, err, tt.wantRep, tt.wantErr)
			}
			if rest, _ := io.ReadAll(r); err == nil && string(rest) != tt.wantRest {
				t.Fatalf("left %q, want %q", rest, tt.wantRest)
			}
		})
	}
}

// FuzzSocksReply checks that the SOCKS5 reply parser never panics and, on
// success, consumes exactly one reply as RFC 1928 section 6 lays it out.
func FuzzSocksReply(f *testing.F) {
	f.Add([]byte{5, 0, 0, 1, 127, 0, 0, 1, 4, 56})
	f.Add([]byte{5, 0, 0, 3, 5, 'b', 'o', 'u', 'n', 'd', 0x12, 0x34, 'e', 'x', 't', 'r', 'a'})
	f.Add(append(append([]byte{5, 0, 0, 4}, make([]byte, 16)...), 0, 80))
	f.Add([]byte{5, 2, 0, 1})
	f.Add([]byte{5, 0, 0, 3, 255})
	f.Add([]byte{4, 90, 0, 80, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		rep, err := readSOCKSReply(r)
		if err != nil || rep != 0 {
			return
		}
		used := len(data) - r.Len()
		want := map[byte]int{socksIPv4: 4 + 4 + 2, socksIPv6: 4 + 16 + 2}[data[3]]
		if data[3] == socksDomain {
			want = 4 + 1 + int(data[4]) + 2
		}
		if used != want {
			t.Fatalf("consumed %d bytes of %x, want %d", used, data, want)
		}
	})
}
