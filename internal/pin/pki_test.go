package pin

import (
	"crypto/tls"

	"github.com/starling-ws/starling/internal/testpki"
)

// serverChain returns the certificate a server presents: leaf and
// intermediate, as servers do (the root stays with the client).
func serverChain(k *testpki.PKI) tls.Certificate {
	return testpki.Chain(k.Leaf, k.Inter)
}

// clientConfig returns a client configuration trusting k's root.
func clientConfig(k *testpki.PKI) *tls.Config {
	return &tls.Config{RootCAs: k.Roots(), ServerName: "localhost"}
}
