// Package browser runs Debian's headless Chromium for tests and drives its
// pages over the DevTools protocol (with chromedp): open a tab, load a page,
// evaluate script, and let the page call back into Go.
//
// Each Browser has its own fresh profile and its own HOME, whose NSS
// database trusts only the CAs given in Options, so pages served with a
// certificate from a test CA load with full certificate verification; no
// certificate error is ignored.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Options configures Start.
type Options struct {
	// Path is the browser executable. Default: DefaultPath.
	Path string
	// TrustedCAs are PEM certificates the browser trusts as roots, in
	// addition to its built-in ones. Needs certutil (Debian's libnss3-tools).
	TrustedCAs [][]byte
	// Logf, if set, receives what pages write to their console and their
	// uncaught exceptions, for test logs.
	Logf func(format string, args ...any)
}

// Browser is a running headless Chromium.
type Browser struct {
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
	logf        func(format string, args ...any)
	output      lockedBuffer
}

// Start runs a headless browser with a fresh profile. If the executable
// does not exist, the error wraps fs.ErrNotExist.
func Start(opts Options) (*Browser, error) {
	path := opts.Path
	if path == "" {
		path = DefaultPath
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	dir, err := os.MkdirTemp("", "starling-browser-")
	if err != nil {
		return nil, err
	}
	b := &Browser{dir: dir, logf: opts.Logf}
	if b.logf == nil {
		b.logf = func(string, ...any) {}
	}
	if err := trustCAs(filepath.Join(dir, ".pki", "nssdb"), opts.TrustedCAs); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), b.allocatorOptions(path)...)
	b.allocCancel = allocCancel
	b.ctx, b.cancel = chromedp.NewContext(allocCtx)
	// The first action starts the browser and binds its life to b.ctx,
	// which therefore has no timeout.
	if err := chromedp.Do(b.ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w; output: %s", path, err, b.output.String())
	}
	return b, nil
}

// allocatorOptions are the flags of a quiet, reproducible headless browser:
// no first-run UI, no background traffic, no component or sync updates,
// no QUIC (tests talk TCP to loopback servers), a fresh profile, and HOME
// pointing at the directory whose NSS database holds the test CAs.
func (b *Browser) allocatorOptions(path string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(b.dir, "profile")),
		chromedp.Env("HOME=" + b.dir),
		chromedp.CombinedOutput(&b.output),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
}

// Output returns what the browser process printed, for diagnosing a failure.
func (b *Browser) Output() string { return b.output.String() }

// Close stops the browser and removes its profile.
func (b *Browser) Close() error {
	var err error
	if b.cancel != nil {
		err = chromedp.Cancel(b.ctx)
		b.cancel()
	}
	if b.allocCancel != nil {
		b.allocCancel()
	}
	if rmErr := os.RemoveAll(b.dir); err == nil {
		err = rmErr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// trustCAs creates an NSS database in dir, where Chromium on Linux looks
// for user trust settings ($HOME/.pki/nssdb), and marks each CA trusted for
// issuing server certificates ("C,,").
func trustCAs(dir string, cas [][]byte) error {
	if len(cas) == 0 {
		return nil
	}
	if _, err := exec.LookPath("certutil"); err != nil {
		return fmt.Errorf("browser: trusting test CAs needs certutil (libnss3-tools): %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db := "sql:" + dir
	if out, err := exec.Command("certutil", "-N", "-d", db, "--empty-password").CombinedOutput(); err != nil {
		return fmt.Errorf("browser: certutil -N: %v: %s", err, out)
	}
	for i, pem := range cas {
		file := filepath.Join(dir, fmt.Sprintf("ca%d.pem", i))
		if err := os.WriteFile(file, pem, 0o600); err != nil {
			return err
		}
		name := fmt.Sprintf("starling test CA %d", i)
		if out, err := exec.Command("certutil", "-A", "-d", db, "-n", name, "-t", "C,,", "-i", file).CombinedOutput(); err != nil {
			return fmt.Errorf("browser: certutil -A: %v: %s", err, out)
		}
	}
	return nil
}

// lockedBuffer collects the browser's output from chromedp's goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
