package browser

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// Page is a browser tab.
type Page struct {
	ctx    context.Context // the tab's chromedp context
	cancel context.CancelFunc
}

// NewPage opens a blank tab and forwards its console to Options.Logf.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	tabCtx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{ctx: tabCtx, cancel: cancel}
	// The first action on a tab context opens the tab; like the browser's,
	// the tab lives as long as the context of that call.
	if err := chromedp.Do(tabCtx); err != nil {
		cancel()
		return nil, fmt.Errorf("browser: opening a tab: %w", err)
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.logf("page console %s: %s", m.Type, m.Text)
		}
	}()
	return p, nil
}

// run runs actions on the tab until they finish or ctx ends.
func (p *Page) run(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	actx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	return chromedp.Do(actx, actions...)
}

// Navigate loads url and waits for its load event. A page that fails to
// load, for example over TLS with an untrusted certificate, is an error.
func (p *Page) Navigate(ctx context.Context, url string) error {
	return p.run(ctx, chromedp.Navigate(url))
}

// Expose makes fn callable from the page as window.<name>(string), in the
// current document and every one loaded later. Calls run fn on their own
// goroutines.
func (p *Page) Expose(ctx context.Context, name string, fn func(arg string)) error {
	return p.run(ctx, chromedp.ExposeFunc(name, func(_ context.Context, arg string) (chromedp.Void, error) {
		fn(arg)
		return chromedp.Void{}, nil
	}))
}

// Eval evaluates the script expression, awaiting it if it is a promise,
// and decodes its JSON value into out (which may be nil to ignore it).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	actx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	raw, err := chromedp.Run(actx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("browser: evaluating script: %w", err)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Close closes the tab.
func (p *Page) Close() error {
	err := chromedp.Cancel(p.ctx)
	p.cancel()
	return err
}
