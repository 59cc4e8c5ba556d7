package interop

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
	"github.com/starling-ws/starling/interop/internal/browser"
	"github.com/starling-ws/starling/interop/internal/matrix"
)

// wasmPage runs the WebAssembly peer: starlingRun(base) resolves with its
// report.
const wasmPage = `<!doctype html>
<title>starling wasm</title>
<script src="wasm_exec.js"></script>
<script>
window.starlingRun = base => new Promise((resolve, reject) => {
	window.starlingBase = base;
	window.starlingDone = resolve;
	const go = new Go();
	WebAssembly.instantiateStreaming(fetch("peer.wasm"), go.importObject)
		.then(r => go.run(r.instance))
		.catch(reject);
});
</script>`

// TestWasmClientInBrowser compiles Starling's client to WebAssembly
// (internal/wasmpeer) and runs it in Chromium, where it dials through the
// browser's own WebSocket: messages of both types and 1 MiB, a streamed
// message, Ping, close codes both ways, the read limit, a refused
// handshake, and a read cancelled while it waits, which leaves the connection open.
func TestWasmClientInBrowser(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "peer.wasm"), "./internal/wasmpeer")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm peer: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output() // of the go that built the peer
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}

	closes := make(chan string, 16) // the close statuses the server saw
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, wasmPage)
	})
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(wasmExec)
	})
	mux.HandleFunc("/peer.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "peer.wasm"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, &starling.AcceptOptions{Subprotocols: []string{"echo.v1"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.Read(r.Context())
			if err != nil {
				closes <- fmt.Sprintf("echo: %v", starling.CloseStatus(err))
				return
			}
			if err := c.Write(r.Context(), typ, p); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.Write(r.Context(), starling.MessageText, []byte("bye soon"))
		c.Close(4001, "server says bye")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		c, err := starling.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Write(r.Context(), starling.MessageBinary, make([]byte, 2048))
		_, _, err = c.Read(r.Context())
		closes <- fmt.Sprintf("big: %v", starling.CloseStatus(err))
	})
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	br, err := browser.Start(browser.Options{Logf: t.Logf})
	matrix.Require(t, err)
	defer br.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := br.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Navigate(ctx, srv.URL+"/"); err != nil {
		t.Fatal(err)
	}
	var report string
	base := "ws" + strings.TrimPrefix(srv.URL, "http")
	if err := p.Eval(ctx, fmt.Sprintf("starlingRun(%q)", base), &report); err != nil {
		t.Fatal(err)
	}
	t.Logf("wasm peer:\n%s", report)
	lines := strings.Split(report, "\n")
	if len(lines) != 8 {
		t.Errorf("%d checks reported, want 8", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "ok ") {
			t.Error(line)
		}
	}
	// What the server saw of the client's closes: its 4000 after the
	// echo, and no status (1005) after the read limit failed the
	// connection with 1009, which a browser cannot send.
	seen := map[string]bool{}
	for len(closes) > 0 {
		seen[<-closes] = true
	}
	for _, want := range []string{"echo: 4000", "big: 1005 (no status received)"} {
		if !seen[want] {
			t.Errorf("the server did not see %q; it saw %v", want, seen)
		}
	}
}
